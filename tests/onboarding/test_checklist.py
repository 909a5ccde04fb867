"""Onboarding checklists: items per program, checked off per partner, holding forward stage moves."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from ecoops.accounts.service import InvalidInput, partner_user_actor
from ecoops.actors import SYSTEM, Role
from ecoops.onboarding import agreements, checklist
from ecoops.onboarding.models import ChecklistCheck
from ecoops.partners import programs, service
from ecoops.partners.models import Partner
from tests.crm.imports.files import run, write_csv
from tests.factories import bearer, csrf_from, make_partner, make_partner_user, make_user, sign_in

TODAY = date(2025, 6, 1)


@pytest.fixture
def program(session):
    return programs.create_program(session, SYSTEM, name="Resellers", tiers=["Registered"])


@pytest.fixture
def items(session, program):
    training = checklist.add_item(
        session, SYSTEM, program, title="Sales training", help_text="Two hours", gates_stage="onboarding"
    )
    signed = checklist.add_item(
        session,
        SYSTEM,
        program,
        title="Agreement",
        help_text="",
        gates_stage="onboarding",
        done_by_agreement=True,
    )
    first_deal = checklist.add_item(
        session, SYSTEM, program, title="First deal", help_text="", gates_stage="producing"
    )
    return training, signed, first_deal


@pytest.fixture
def partner(session, program):
    return make_partner(
        session, name="Acme", stage="signed", stage_since=date(2025, 1, 1), tiers=[program.tiers[0]]
    )


def _move(session, partner, to):
    return service.change_stage(session, SYSTEM, partner, to=to, on=TODAY, today=TODAY)


def test_open_items_hold_the_move_into_their_stage_and_are_named(session, partner, items):
    with pytest.raises(InvalidInput) as refused:
        _move(session, partner, "onboarding")
    assert str(refused.value) == (
        "open onboarding items hold the move to onboarding: Sales training (Resellers); Agreement (Resellers)"
    )
    assert partner.stage == "signed"


def test_a_move_that_passes_a_stage_needs_its_items_too(session, partner, items):
    training, _, _ = items
    checklist.set_done(session, SYSTEM, partner, training.id, done=True)
    with pytest.raises(InvalidInput, match=r"to active: Agreement \(Resellers\)$"):
        _move(session, partner, "active")


def test_moves_back_and_churn_are_never_held(session, partner, items):
    _move(session, partner, "recruiting")
    partner.stage, partner.stage_since = "signed", TODAY
    _move(session, partner, "churned")
    assert partner.stage == "churned"


def test_items_of_other_programs_hold_nothing(session, partner, items):
    other = programs.create_program(session, SYSTEM, name="Tech", tiers=["One"])
    outsider = make_partner(session, stage="signed", stage_since=date(2025, 1, 1), tiers=[other.tiers[0]])
    _move(session, outsider, "active")
    assert outsider.stage == "active"


def test_all_done_lets_the_partner_through_and_the_agreement_checks_its_own_item(
    session, partner, program, items
):
    training, _, first_deal = items
    checklist.set_done(session, SYSTEM, partner, training.id, done=True)
    agreements.set_agreement(session, SYSTEM, program, version="v1", text="Terms", url="")
    admin = make_partner_user(session, partner, is_partner_admin=True)
    actor = partner_user_actor(admin)
    agreements.accept_agreement(
        session, actor, program.id, version="v1", address="203.0.113.9", user_agent="x"
    )
    lines = {line.item.title: line for line in checklist.partner_checklist(session, partner.id)}
    assert (lines["Agreement"].done, lines["Agreement"].by_agreement, lines["Agreement"].check) == (
        True,
        True,
        None,
    )
    _move(session, partner, "active")  # passes onboarding; producing's item is not crossed
    assert partner.stage == "active"
    with pytest.raises(InvalidInput, match="First deal"):
        _move(session, partner, "producing")
    # A new agreement version opens the automatic item again (it is not a stored check-off).
    agreements.set_agreement(session, SYSTEM, program, version="v2", text="Terms 2", url="")
    lines = {line.item.title: line for line in checklist.partner_checklist(session, partner.id)}
    assert lines["Agreement"].done is False
    assert first_deal.id not in {c.item_id for c in session.scalars(select(ChecklistCheck))}


def test_items_are_checked_off_on_the_partner_page_by_whom_and_when(client, session, partner, items):
    training, _, _ = items
    sign_in(client, make_user(session, Role.PARTNER_MANAGER, email="pm@example.com").email)
    page = client.get(f"/partners/{partner.id}").text
    token = csrf_from(page)
    assert "Check off: Sales training" in page
    moved = client.post(
        f"/partners/{partner.id}/stage",
        data={"to_stage": "onboarding", "changed_on": "2025-02-01", "csrf_token": token},
        follow_redirects=True,
    )
    assert (
        "The move was not recorded: open onboarding items hold the move to onboarding: Sales training"
        in moved.text
    )
    response = client.post(
        f"/partners/{partner.id}/checklist/{training.id}", data={"done": "true", "csrf_token": token}
    )
    assert response.status_code == 303
    check = session.scalars(select(ChecklistCheck)).one()
    assert (check.partner_id, check.item_id, check.checked_by) == (partner.id, training.id, "pm@example.com")
    page = client.get(f"/partners/{partner.id}").text
    assert "checked off by pm@example.com" in page and "Open again: Sales training" in page
    # Checking it off twice changes nothing; opening it again removes the check.
    client.post(f"/partners/{partner.id}/checklist/{training.id}", data={"done": "true", "csrf_token": token})
    assert len(session.scalars(select(ChecklistCheck)).all()) == 1
    client.post(
        f"/partners/{partner.id}/checklist/{training.id}", data={"done": "false", "csrf_token": token}
    )
    assert session.scalars(select(ChecklistCheck)).all() == []


def test_an_item_of_a_program_the_partner_is_not_in_is_not_found(client, session, partner, items):
    other = programs.create_program(session, SYSTEM, name="Tech", tiers=["One"])
    foreign = checklist.add_item(
        session, SYSTEM, other, title="Tech quiz", help_text="", gates_stage="active"
    )
    sign_in(client, make_user(session, Role.PARTNER_MANAGER).email)
    token = csrf_from(client.get(f"/partners/{partner.id}").text)
    response = client.post(
        f"/partners/{partner.id}/checklist/{foreign.id}", data={"done": "true", "csrf_token": token}
    )
    assert response.status_code == 404


def test_the_portal_shows_the_checklist_read_only(client, session, partner, items):
    training, _, _ = items
    checklist.set_done(session, SYSTEM, partner, training.id, done=True)
    sign_in(client, make_partner_user(session, partner).email)
    page = client.get("/portal/onboarding").text
    assert "☑ <strong>Sales training</strong>" in page and "☐ <strong>First deal</strong>" in page
    assert "Check off" not in page and "/checklist/" not in page


def test_items_are_added_and_removed_on_the_programs_page(client, session, program):
    sign_in(client, make_user(session, Role.PARTNER_MANAGER).email)
    token = csrf_from(client.get("/programs").text)
    path = f"/programs/{program.id}/checklist"
    blank = client.post(
        path, data={"title": " ", "gates_stage": "active", "csrf_token": token}, follow_redirects=True
    )
    assert "No item was added: title: 1 to 200 characters" in blank.text
    wrong = client.post(
        path, data={"title": "X", "gates_stage": "prospect", "csrf_token": token}, follow_redirects=True
    )
    assert "gates_stage: one of recruiting, signed, onboarding, active, producing" in wrong.text
    added = client.post(
        path,
        data={
            "title": "Kick-off call",
            "gates_stage": "active",
            "done_by_agreement": "true",
            "csrf_token": token,
        },
        follow_redirects=True,
    )
    assert "Kick-off call now holds moves into active." in added.text
    (item,) = checklist.items_by_program(session)[program.id]
    assert (item.title, item.gates_stage, item.done_by_agreement) == ("Kick-off call", "active", True)
    client.post(f"/programs/{program.id}/checklist/{item.id}/delete", data={"csrf_token": token})
    assert checklist.items_by_program(session) == {}


def test_the_api_refuses_a_held_move_with_a_400_naming_the_items(client, session, partner, items):
    headers = bearer(session, make_user(session, Role.PARTNER_MANAGER))
    response = client.post(
        f"/api/v1/partners/{partner.id}/stage-changes",
        json={"to_stage": "onboarding", "changed_on": "2025-02-01"},
        headers=headers,
    )
    assert response.status_code == 400
    assert "Sales training (Resellers); Agreement (Resellers)" in response.json()["detail"]
    session.refresh(partner)
    assert partner.stage == "signed"


def test_a_partner_list_import_refuses_a_held_move_as_a_row_problem(session, tmp_path, program, items):
    make_partner(
        session,
        name="Delta",
        crm_id="P-9",
        stage="signed",
        stage_since=date(2025, 1, 1),
        tiers=[program.tiers[0]],
    )
    text = "Partner ID,Partner Name,Stage,Partner Since\nP-9,Delta,active,2025-04-01\n"
    outcome = run(session, write_csv(tmp_path, text))
    assert outcome.status == "rejected"
    (problem,) = outcome.problems
    assert (problem.line, problem.field) == (2, "Stage")
    assert "open onboarding items hold the move to active: Sales training (Resellers)" in problem.message
    assert session.scalar(select(Partner.stage).where(Partner.crm_id == "P-9")) == "signed"
