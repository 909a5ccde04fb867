"""Reviewing applications: the list, approving (one partner, its contact, duplicates) and declining."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from ecoops.accounts.models import PartnerUser
from ecoops.actors import SYSTEM, Role
from ecoops.config import Settings
from ecoops.onboarding.models import PartnerApplication
from ecoops.partners import programs
from ecoops.partners.models import Membership, Partner
from ecoops.web.app import create_app
from tests.at_once import at_once
from tests.factories import csrf_from, make_partner, make_user, sign_in
from tests.onboarding.helpers import submitted


@pytest.fixture
def program(session):
    return programs.create_program(session, SYSTEM, name="Resellers", tiers=["Gold", "Registered"])


@pytest.fixture
def reviewer(client, session):
    sign_in(client, make_user(session, Role.PARTNER_MANAGER, email="rosa@example.com").email)
    return csrf_from(client.get("/applications").text)


def test_the_list_shows_waiting_ones_first_and_filters_by_status(client, session, program, reviewer):
    waiting = submitted(session, program.id, company="Waiting Co")
    declined = submitted(session, program.id, company="Declined Co", website="declined.example")
    declined.status = "declined"
    session.flush()
    page = client.get("/applications").text
    assert "Waiting Co" in page and "Declined Co" not in page
    page = client.get("/applications", params={"status": "declined"}).text
    assert "Declined Co" in page and "Waiting Co" not in page
    page = client.get("/applications", params={"status": "all"}).text
    assert "Declined Co" in page and "Waiting Co" in page
    assert f'href="/applications/{waiting.id}"' in page
    assert "No approved application" in client.get("/applications", params={"status": "approved"}).text


def test_the_list_is_paged(client, session, settings, program, reviewer):
    for n in range(settings.page_size + 1):
        submitted(session, program.id, company=f"Company {n:03d}", website=f"c{n}.example")
    first = client.get("/applications").text
    second = client.get("/applications", params={"page": 2}).text
    # Newest first: the last one made opens page 1, the first one made is alone on page 2.
    assert f"Company {settings.page_size:03d}" in first and "Company 000" not in first
    assert "Company 000" in second and f"Company {settings.page_size:03d}" not in second


@pytest.mark.all_backends
def test_approving_creates_the_partner_signed_in_the_program_with_an_email_only_contact(
    client, session, settings, program, reviewer
):
    application = submitted(session, program.id, contact_role="cs")
    page = client.get(f"/applications/{application.id}").text
    assert "Approve and create partner" in page and "May already be" not in page
    response = client.post(
        f"/applications/{application.id}/approve",
        data={"stage": "signed", "program_id": program.id, "note": "good fit", "csrf_token": reviewer},
    )
    assert response.status_code == 303
    partner = session.scalars(select(Partner).where(Partner.name == "Acme Integrations")).one()
    assert response.headers["location"] == f"/partners/{partner.id}"
    assert (partner.stage, partner.stage_since, partner.country) == ("signed", settings.today(), "DE")
    assert [d.domain for d in partner.domains] == ["acme-integrations.example"]
    (membership,) = session.scalars(select(Membership).where(Membership.partner_id == partner.id)).all()
    # The entry tier is the lowest rank: tiers are ranked in the order given, Gold first (rank 0).
    assert (membership.program_id, membership.tier.name) == (program.id, "Gold")
    contact = session.scalars(select(PartnerUser).where(PartnerUser.partner_id == partner.id)).one()
    assert (contact.email, contact.name, contact.contact_role) == (
        "ana@acme-integrations.example",
        "Ana Applicant",
        "cs",
    )
    assert (contact.can_sign_in, contact.password_hash, contact.is_partner_admin) == (False, "", False)
    session.refresh(application)
    assert (application.status, application.decided_by, application.note, application.partner_id) == (
        "approved",
        "rosa@example.com",
        "good fit",
        partner.id,
    )
    # Decided once: a second approval is refused, naming who decided.
    again = client.post(
        f"/applications/{application.id}/approve",
        data={"stage": "signed", "program_id": program.id, "csrf_token": reviewer},
        follow_redirects=True,
    )
    assert "already approved by rosa@example.com" in again.text
    assert session.scalar(select(func.count()).select_from(Partner)) == 1


def test_only_recruiting_or_signed(client, session, program, reviewer):
    application = submitted(session, program.id)
    response = client.post(
        f"/applications/{application.id}/approve",
        data={"stage": "active", "program_id": program.id, "csrf_token": reviewer},
        follow_redirects=True,
    )
    assert "Not approved: stage: one of recruiting, signed" in response.text
    assert session.scalar(select(func.count()).select_from(Partner)) == 0


def test_a_company_already_in_the_directory_is_shown_and_needs_create_anyway(
    client, session, program, reviewer
):
    by_domain = make_partner(session, name="Acme (old name)", domains=["acme-integrations.example"])
    by_name = make_partner(session, name="ACME integrations", domains=["elsewhere.example"])
    make_partner(session, name="Unrelated", domains=["unrelated.example"])
    application = submitted(session, program.id)
    page = client.get(f"/applications/{application.id}").text
    assert f'<a href="/partners/{by_domain.id}">Acme (old name)</a>' in page
    assert f'<a href="/partners/{by_name.id}">ACME integrations</a>' in page
    assert "Unrelated" not in page
    data = {"stage": "recruiting", "program_id": program.id, "csrf_token": reviewer}
    refused = client.post(f"/applications/{application.id}/approve", data=data, follow_redirects=True)
    assert "Acme (old name), ACME integrations may be this company already" in refused.text
    assert session.scalar(select(func.count()).select_from(Partner)) == 3
    anyway = client.post(
        f"/applications/{application.id}/approve", data=data | {"despite_duplicates": "true"}
    )
    assert anyway.status_code == 303
    assert session.scalar(select(func.count()).select_from(Partner)) == 4


def test_an_applicant_who_already_has_an_account_adds_no_contact(client, session, program, reviewer):
    make_user(session, Role.SALES, email="ana@acme-integrations.example")
    application = submitted(session, program.id)
    response = client.post(
        f"/applications/{application.id}/approve",
        data={"stage": "signed", "program_id": program.id, "csrf_token": reviewer},
        follow_redirects=True,
    )
    assert "no contact was added" in response.text
    assert session.scalar(select(func.count()).select_from(PartnerUser)) == 0


def test_declining_needs_a_reason_and_keeps_it(client, session, program, reviewer):
    application = submitted(session, program.id)
    blank = client.post(
        f"/applications/{application.id}/decline",
        data={"reason": "  ", "csrf_token": reviewer},
        follow_redirects=True,
    )
    assert "Not declined: reason: say why" in blank.text
    response = client.post(
        f"/applications/{application.id}/decline", data={"reason": "No overlap", "csrf_token": reviewer}
    )
    assert response.status_code == 303
    session.refresh(application)
    assert (application.status, application.note, application.decided_by) == (
        "declined",
        "No overlap",
        "rosa@example.com",
    )
    assert "declined by rosa@example.com" in client.get(f"/applications/{application.id}").text
    assert session.scalar(select(func.count()).select_from(Partner)) == 0


@pytest.mark.all_backends
def test_two_reviewers_approving_at_once_create_one_partner(committed_engine: Engine, tmp_path: Path) -> None:
    engine = committed_engine
    rounds = 4
    with Session(engine) as session:
        emails = [make_user(session, Role.PARTNER_MANAGER).email for _ in range(2)]
        program = programs.create_program(session, SYSTEM, name="Resellers", tiers=["Registered"])
        made = [
            submitted(session, program.id, company=f"Race {n}", website=f"race{n}.io", email=f"r{n}@x.eu")
            for n in range(rounds)
        ]
        ids = [application.id for application in made]
        program_id = program.id
        session.commit()
    app = create_app(Settings(env="test", var_dir=tmp_path / "var", secret_key="r" * 40), engine)
    clients = []
    for email in emails:
        client = TestClient(app, follow_redirects=False)
        sign_in(client, email)
        clients.append((client, csrf_from(client.get("/applications").text)))

    def approve(client: TestClient, token: str, application_id: int):
        data = {"stage": "signed", "program_id": str(program_id), "csrf_token": token}
        return lambda: client.post(f"/applications/{application_id}/approve", data=data).headers["location"]

    try:
        for application_id in ids:
            places = at_once(*(approve(c, t, application_id) for c, t in clients))
            # One lands on the new partner, the other back on the application (refused: already approved).
            assert sorted(p.startswith("/partners/") for p in places) == [False, True]
        with Session(engine) as session:
            names = session.scalars(select(Partner.name).order_by(Partner.name)).all()
            assert names == [f"Race {n}" for n in range(rounds)]
            assert session.scalar(select(func.count()).select_from(PartnerUser)) == rounds
            statuses = session.scalars(select(PartnerApplication.status)).all()
            assert statuses == ["approved"] * rounds
    finally:
        engine.dispose()
