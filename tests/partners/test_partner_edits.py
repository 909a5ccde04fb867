"""A partner's owner, type, tiers and profile change after creation, each change a dated history line."""

from datetime import date

import pytest
from sqlalchemy import select

from ecoops.accounts.service import InvalidInput, user_actor
from ecoops.actors import SYSTEM, Role
from ecoops.audit import AuditEvent
from ecoops.partners import programs, service
from ecoops.partners.editing import PartnerEdit, update_partner
from ecoops.partners.programs import FieldError
from ecoops.permissions import Forbidden
from tests.factories import make_partner, make_user

pytestmark = pytest.mark.all_backends
TODAY = date(2026, 6, 1)


def _history(session, partner_id):
    partner = service.get_partner(session, SYSTEM, partner_id)
    session.refresh(partner)
    return [(c.changed_on, c.field, c.old_value, c.new_value, c.recorded_by) for c in partner.changes]


def test_a_tier_upgrade_is_dated_and_signed_in_the_history(session, backend):
    manager = make_user(session, Role.PARTNER_MANAGER, email="pm@example.com")
    program = programs.create_program(session, SYSTEM, name="Resell", tiers=["Silver", "Gold"])
    silver, gold = program.tiers
    partner = make_partner(session, tiers=[silver])
    lines = update_partner(
        session,
        user_actor(manager),
        partner.id,
        PartnerEdit(tier_ids=[gold.id]),
        on=date(2026, 5, 20),
        today=TODAY,
    )
    assert len(lines) == 1
    assert _history(session, partner.id) == [
        (date(2026, 5, 20), "tier", "Resell · Silver", "Resell · Gold", "pm@example.com")
    ]
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "partner.updated")).one()
    assert event.details["changes"] == [{"field": "tier", "from": "Resell · Silver", "to": "Resell · Gold"}]


def test_owner_type_profile_and_programs_change_together(session):
    ana = make_user(session, Role.PARTNER_MANAGER, name="Ana")
    ben = make_user(session, Role.PARTNER_MANAGER, name="Ben")
    resell = programs.create_program(session, SYSTEM, name="Resell", tiers=["Silver"])
    tech = programs.create_program(session, SYSTEM, name="Tech", tiers=["Registered"])
    partner = make_partner(
        session,
        name="Acme",
        partner_type="reseller",
        owner_id=ana.id,
        domains=["acme.example"],
        tiers=[resell.tiers[0]],
    )
    edit = PartnerEdit(
        name="Acme Group",
        partner_type="agency",
        owner_id=ben.id,
        domains=["acme.example", "acme.de"],
        tier_ids=[tech.tiers[0].id],
    )
    update_partner(session, SYSTEM, partner.id, edit, on=TODAY, today=TODAY)
    assert [(f, old, new) for _, f, old, new, _ in _history(session, partner.id)] == [
        ("name", "Acme", "Acme Group"),
        ("type", "reseller", "agency"),
        ("owner", "Ana", "Ben"),
        ("domains", "acme.example", "acme.de, acme.example"),
        ("program", "Resell · Silver", ""),
        ("program", "", "Tech · Registered"),
    ]
    partner = service.get_partner(session, SYSTEM, partner.id)
    assert (partner.name, partner.partner_type, partner.owner_id) == ("Acme Group", "agency", ben.id)
    assert [(m.program.name, m.joined_on) for m in partner.memberships] == [("Tech", TODAY)]


def test_unassigning_the_owner_and_an_edit_that_changes_nothing(session):
    ana = make_user(session, Role.PARTNER_MANAGER, name="Ana")
    partner = make_partner(session, owner_id=ana.id)
    assert (
        update_partner(session, SYSTEM, partner.id, PartnerEdit(name=partner.name), on=TODAY, today=TODAY)
        == []
    )
    update_partner(session, SYSTEM, partner.id, PartnerEdit(clear_owner=True), on=TODAY, today=TODAY)
    assert [(f, old, new) for _, f, old, new, _ in _history(session, partner.id)] == [("owner", "Ana", "")]


def test_a_partner_keeps_its_retired_tier_but_cannot_be_moved_into_one(session):
    program = programs.create_program(session, SYSTEM, name="P", tiers=["Silver", "Gold"])
    silver, gold = program.tiers
    partner = make_partner(session, tiers=[silver])
    programs.set_tier_retired(session, SYSTEM, silver, retired=True, today=TODAY)
    programs.set_tier_retired(session, SYSTEM, gold, retired=True, today=TODAY)
    # Saving the form again with the tier it already holds is fine.
    assert (
        update_partner(session, SYSTEM, partner.id, PartnerEdit(tier_ids=[silver.id]), on=TODAY, today=TODAY)
        == []
    )
    with pytest.raises(InvalidInput, match="tier Gold of P is retired"):
        update_partner(session, SYSTEM, partner.id, PartnerEdit(tier_ids=[gold.id]), on=TODAY, today=TODAY)


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (PartnerEdit(name=" "), "name"),
        (PartnerEdit(name="x" * 201), "name"),
        (PartnerEdit(partner_type="distributor"), "partner_type"),
        (PartnerEdit(website="https://" + "w" * 300), "website"),
        (PartnerEdit(domains=["d" * 254]), "domains"),
        (PartnerEdit(tier_ids=[999_999]), "tier_ids"),
    ],
)
def test_invalid_edits_are_refused_naming_the_field(session, edit, field):
    partner = make_partner(session)
    with pytest.raises(FieldError) as caught:
        update_partner(session, SYSTEM, partner.id, edit, on=TODAY, today=TODAY)
    assert caught.value.field == field


def test_other_refusals(session):
    program = programs.create_program(session, SYSTEM, name="P", tiers=["Silver", "Gold"])
    partner = make_partner(session)
    with pytest.raises(FieldError, match="changed_on: the change date 2026-06-02 is in the future"):
        update_partner(session, SYSTEM, partner.id, PartnerEdit(name="B"), on=date(2026, 6, 2), today=TODAY)
    with pytest.raises(InvalidInput, match="one tier per program"):
        update_partner(
            session,
            SYSTEM,
            partner.id,
            PartnerEdit(tier_ids=[t.id for t in program.tiers]),
            on=TODAY,
            today=TODAY,
        )
    with pytest.raises(InvalidInput, match="no active user"):
        update_partner(session, SYSTEM, partner.id, PartnerEdit(owner_id=999_999), on=TODAY, today=TODAY)
    assert _history(session, partner.id) == []


@pytest.mark.parametrize("role", [Role.SALES, Role.VIEWER])
def test_readers_may_not_edit_partners(session, role):
    partner = make_partner(session)
    with pytest.raises(Forbidden):
        update_partner(
            session,
            user_actor(make_user(session, role)),
            partner.id,
            PartnerEdit(name="X"),
            on=TODAY,
            today=TODAY,
        )
