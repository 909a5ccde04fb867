"""Statements on the web: finance approves the month's lines on the ledger page and the statement shows
them; a partner user sees its own statements in the portal and never another partner's."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.accounts.service import partner_user_actor
from ecoops.actors import Role
from ecoops.commissions import statements
from ecoops.commissions.statement_pdf import latin1
from ecoops.config import Settings
from ecoops.events.models import Event
from ecoops.permissions import NotFound
from tests.commissions.world import accrue, entries, plan, program_with_partners, won_deal
from tests.factories import csrf_from, make_partner_user, make_user, sign_in
from tests.pdf_text import pdf_lines, pdf_page_count


def test_finance_approves_the_month_and_the_statement_shows_it(
    client: TestClient, session: Session, settings: Settings
) -> None:
    program, (partner,) = program_with_partners(session)
    plan(session, program, name="Resale 10")
    won_deal(session, partner, "1234.56", date(2025, 3, 3), crm_id="006MARCH1")
    sign_in(client, make_user(session, Role.OPS).email)
    ledger_page = client.get("/commissions").text
    assert "Compute accruals" in ledger_page and "No pending lines" in ledger_page
    ran = client.post("/commissions/runs", data={"as_of": "2025-03-31", "csrf_token": csrf_from(ledger_page)})
    assert ran.status_code == 303
    pending = client.get("/commissions?status=pending").text
    assert "123.46 USD" in pending and "Resale 10: deal 006MARCH1 won 2025-03-03" in pending
    (line,) = entries(session)
    approved = client.post(
        "/commissions/decisions",
        data={"entry_id": str(line.id), "decision": "approved", "csrf_token": csrf_from(pending)},
    )
    assert approved.status_code == 303
    statement = client.get(f"/commissions/statements/{partner.id}/2025-03").text
    assert "Earned this month: 123.46 USD" in statement and "status-approved" in statement
    kinds = session.scalars(select(Event.kind).order_by(Event.id)).all()
    assert kinds[-2:] == ["commission.approved", "commission.statement_ready"]


def test_declining_needs_a_reason(client: TestClient, session: Session, settings: Settings) -> None:
    program, (partner,) = program_with_partners(session)
    plan(session, program)
    won_deal(session, partner, "1000", date(2025, 3, 3))
    accrue(session, settings, date(2025, 3, 31))
    sign_in(client, make_user(session, Role.ADMIN).email)
    page = client.get("/commissions").text
    (line,) = entries(session)
    client.post(
        "/commissions/decisions",
        data={"entry_id": str(line.id), "decision": "declined", "csrf_token": csrf_from(page)},
    )
    assert "reason: say why the lines are declined" in client.get("/commissions").text
    session.refresh(line)
    assert line.status == "pending"


def test_partner_user_sees_its_own_statement_only(
    client: TestClient, session: Session, settings: Settings
) -> None:
    program, (own, other) = program_with_partners(session, 2)
    plan(session, program)
    won_deal(session, own, "1000", date(2025, 3, 3), crm_id="006OWNDEAL")
    won_deal(session, other, "2000", date(2025, 3, 4), crm_id="006OTHERDEAL")
    accrue(session, settings, date(2025, 3, 31))
    sign_in(client, make_partner_user(session, own).email)
    listing = client.get("/portal/commissions").text
    assert (
        'href="/portal/commissions/2025-03"' in listing
        and "100.00 USD" in listing
        and "200.00" not in listing
    )
    statement = client.get("/portal/commissions/2025-03").text
    assert "006OWNDEAL" in statement and "006OTHERDEAL" not in statement
    csv_text = client.get("/portal/commissions/2025-03.csv").text
    assert "006OWNDEAL" in csv_text and "006OTHERDEAL" not in csv_text
    assert client.get(f"/commissions/statements/{other.id}/2025-03").status_code == 403


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(owners=st.lists(st.integers(0, 2), min_size=1, max_size=8), viewer=st.integers(0, 2))
def test_any_partner_reads_exactly_its_own_lines(
    session: Session, settings: Settings, owners: list[int], viewer: int
) -> None:
    savepoint = session.begin_nested()
    try:
        program, partners = program_with_partners(session, 3)
        plan(session, program)
        for day, owner in enumerate(owners, start=1):
            won_deal(session, partners[owner], "1000", date(2025, 3, day))
        accrue(session, settings, date(2025, 3, 31))
        actor = partner_user_actor(make_partner_user(session, partners[viewer]))
        shown = statements.statement(session, actor, partners[viewer].id, "2025-03", "USD").lines
        assert len(shown) == owners.count(viewer)
        assert {line.partner_id for line in shown} <= {partners[viewer].id}
        for other in partners:
            if other is not partners[viewer]:
                try:
                    statements.statement(session, actor, other.id, "2025-03", "USD")
                except NotFound:
                    continue
                raise AssertionError("another partner's statement was readable")
        listed = statements.summaries(session, actor, partners[(viewer + 1) % 3].id).items
        assert all(s.partner_id == partners[viewer].id for s in listed)
        assert sum(s.lines for s in listed) == owners.count(viewer)
    finally:
        savepoint.rollback()


@pytest.mark.all_backends
def test_the_statement_as_pdf_lists_each_line_and_the_total(
    client: TestClient, session: Session, settings: Settings
) -> None:
    """Hand-worked: 10 % of 1,234.56 is 123.456, rounded half up 123.46; of 1,000.00, 100.00; of
    2,000.00 (the other partner's) 200.00, not on this statement. Total 223.46."""
    program, (partner, other) = program_with_partners(session, 2)
    plan(session, program, name="Resale 10")
    won_deal(session, partner, "1234.56", date(2025, 3, 3), crm_id="006PDFONE")
    won_deal(session, partner, "1000", date(2025, 3, 20), crm_id="006PDFTWO")
    won_deal(session, other, "2000", date(2025, 3, 5), crm_id="006PDFOTHER")
    won_deal(session, partner, "500", date(2025, 4, 2), crm_id="006PDFAPRIL")
    accrue(session, settings, date(2025, 4, 30))
    sign_in(client, make_user(session, Role.OPS).email)
    page = client.get(f"/commissions/statements/{partner.id}/2025-03").text
    assert f'href="/commissions/statements/{partner.id}/2025-03.pdf"' in page
    listing = client.get("/commissions/statements").text
    assert f'href="/commissions/statements/{partner.id}/2025-03.pdf"' in listing
    response = client.get(f"/commissions/statements/{partner.id}/2025-03.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert f'filename="statement-{partner.id}-2025-03.pdf"' in response.headers["content-disposition"]
    lines = pdf_lines(response.content)
    text = "\n".join(lines)
    assert f"Commission statement: {partner.name}, 2025-03" in text
    assert "Earned this month: 223.46 USD" in lines and "pending: 223.46 USD" in lines
    one, two = (e for e in entries(session, partner) if e.earned_on.month == 3)
    for entry, deal, amount in ((one, "006PDFONE", "123.46 USD"), (two, "006PDFTWO", "100.00 USD")):
        assert f"#{entry.id} credit" in lines and deal in lines and amount in lines
        assert entry.explanation.split(":")[0] in text  # "Resale 10", where the explanation begins
    assert "006PDFOTHER" not in text and "200.00 USD" not in text and "006PDFAPRIL" not in text
    assert pdf_page_count(response.content) == 1


def test_an_empty_month_prints_a_pdf_saying_so(client: TestClient, session: Session) -> None:
    _program, (partner,) = program_with_partners(session)
    sign_in(client, make_user(session, Role.ADMIN).email)
    response = client.get(f"/commissions/statements/{partner.id}/2024-12.pdf")
    lines = pdf_lines(response.content)
    assert "No commission lines in 2024-12." in lines and "Earned this month: 0.00 USD" in lines


def test_partner_user_downloads_its_own_pdf_only(
    client: TestClient, session: Session, settings: Settings
) -> None:
    program, (own, other) = program_with_partners(session, 2)
    plan(session, program)
    won_deal(session, own, "1000", date(2025, 3, 3), crm_id="006OWNPDF")
    won_deal(session, other, "2000", date(2025, 3, 4), crm_id="006OTHERPDF")
    accrue(session, settings, date(2025, 3, 31))
    sign_in(client, make_partner_user(session, own).email)
    assert 'href="/portal/commissions/2025-03.pdf"' in client.get("/portal/commissions").text
    assert 'href="/portal/commissions/2025-03.pdf"' in client.get("/portal/commissions/2025-03").text
    text = "\n".join(pdf_lines(client.get("/portal/commissions/2025-03.pdf").content))
    assert "006OWNPDF" in text and "100.00 USD" in text and "006OTHERPDF" not in text
    assert client.get(f"/commissions/statements/{other.id}/2025-03.pdf").status_code == 403
    assert client.get(f"/commissions/statements/{own.id}/2025-03.pdf").status_code == 403


def test_a_partner_users_pdf_of_another_partner_is_not_found(session: Session, settings: Settings) -> None:
    program, (own, other) = program_with_partners(session, 2)
    plan(session, program)
    won_deal(session, other, "2000", date(2025, 3, 4))
    accrue(session, settings, date(2025, 3, 31))
    actor = partner_user_actor(make_partner_user(session, own))
    try:
        statements.statement(session, actor, other.id, "2025-03", "USD")
    except NotFound:
        return
    raise AssertionError("another partner's statement was readable")


def test_text_outside_latin1_prints_readably() -> None:
    assert latin1("Claim — “webinar” → 5 ≥ 3 … 日本") == 'Claim - "webinar" -> 5 >= 3 ... ??'
