"""Partner funds end to end: allocation, a request in the portal, approval, a claim with proof, and the
reimbursement entering the commission ledger once, billed with the partner's other lines."""

from __future__ import annotations

import csv
import io
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.accounts.service import partner_user_actor
from ecoops.actors import SYSTEM, Role
from ecoops.automation.templates import build_message
from ecoops.commissions import funds, payments
from ecoops.commissions.models import FundRequest
from ecoops.config import Settings
from ecoops.events.models import Event
from ecoops.partners.programs import FieldError
from ecoops.permissions import NotFound
from tests.commissions.world import entries, program_with_partners
from tests.factories import csrf_from, make_partner_user, make_user, sign_in


@pytest.mark.all_backends
def test_request_claim_and_reimbursement(
    backend: str, client: TestClient, session: Session, settings: Settings
) -> None:
    _program, (partner, other) = program_with_partners(session, 2)
    partner.name = "Maple & Birch"
    allocation = funds.allocate(session, SYSTEM, partner.id, "2025-Q2", "5,000", "USD")
    sign_in(client, make_partner_user(session, partner).email)
    page = client.get("/portal/funds").text
    assert "Allocated 5,000.00 USD; left to request 5,000.00 USD" in page
    too_much = {
        "csrf_token": csrf_from(page),
        "allocation_id": str(allocation.id),
        "activity": "Webinar",
        "budget": "5,000.01",
    }
    client.post("/portal/funds/requests", data=too_much)
    assert (
        "budget: more than 0 and at most what is left of 2025-Q2: 5,000.00"
        in client.get("/portal/funds").text
    )
    client.post("/portal/funds/requests", data=too_much | {"budget": "3,000", "opportunity_crm_id": "006WEB"})
    (found,) = session.scalars(select(FundRequest)).all()
    assert (found.status, found.budget_cents, found.opportunity_crm_id) == ("requested", 300000, "006WEB")

    funds.decide_request(session, SYSTEM, found.id, approve=True)
    session.flush()
    page = client.get("/portal/funds").text
    claimed = client.post(
        f"/portal/funds/{found.id}/claim",
        data={"csrf_token": csrf_from(page), "amount": "2,750.50"},
        files={"proof": ("invoice.pdf", b"%PDF-1.4 invoice", "application/pdf")},
    )
    assert claimed.status_code == 303
    session.refresh(found)
    assert (found.claim_status, found.claimed_cents, found.proof_filename) == (
        "requested",
        275050,
        "invoice.pdf",
    )
    assert client.get(f"/portal/funds/{found.id}/proof").content == b"%PDF-1.4 invoice"

    funds.decide_claim(session, SYSTEM, found.id, approve=True)
    with pytest.raises(FieldError, match="has no claim waiting"):
        funds.decide_claim(session, SYSTEM, found.id, approve=True)
    (line,) = entries(session, partner)
    assert (line.kind, line.amount_cents, line.status, line.plan_id) == (
        "reimbursement",
        275050,
        "approved",
        None,
    )
    assert "Partner funds 2025-Q2: Webinar" in line.explanation and "invoice.pdf" in line.explanation
    bills = list(csv.DictReader(io.StringIO(payments.export_csv(session, SYSTEM))))
    assert [(b["Vendor ID"], b["Amount"]) for b in bills] == [(str(partner.id), "2750.50")]
    submitted, approved = session.scalars(select(Event).order_by(Event.id)).all()[-2:]
    assert (submitted.kind, approved.kind) == ("fund_claim.submitted", "fund_claim.approved")
    assert submitted.payload["partner_name"] == approved.payload["partner_name"] == "Maple & Birch"
    rendered = [
        build_message(
            event, subject_template="", body_template="", base_url="https://eco.example", currency="USD"
        )
        for event in (submitted, approved)
    ]
    assert [(m.subject, m.text) for m in rendered] == [
        (
            f"Partner funds claim #{found.id} from Maple & Birch: 2750.50 USD",
            "Maple & Birch claims 2750.50 USD with proof of performance for: Webinar. It waits for review.",
        ),
        (
            f"Partner funds claim #{found.id} of Maple & Birch approved: 2750.50 USD",
            "Maple & Birch's claim for Webinar is approved and will be reimbursed with the next commission "
            "payment.",
        ),
    ]

    stranger = partner_user_actor(make_partner_user(session, other))
    with pytest.raises(NotFound):
        funds.proof(session, stranger, found.id, settings.var_dir)


def test_claims_need_an_approved_request_a_proof_and_at_most_the_budget(
    session: Session, settings: Settings
) -> None:
    _program, (partner,) = program_with_partners(session)
    allocation = funds.allocate(session, SYSTEM, partner.id, "2025-Q3", "2000", "USD")
    actor = partner_user_actor(make_partner_user(session, partner))
    found = funds.request_funds(session, actor, allocation.id, "Trade show booth", "1000")
    with pytest.raises(FieldError, match="only an approved request"):
        funds.submit_claim(session, actor, found.id, "10", b"x", "a.pdf", settings.var_dir)
    funds.decide_request(session, SYSTEM, found.id, approve=True)
    with pytest.raises(
        FieldError, match=re.escape("amount: more than 0 and at most the approved budget, 1,000.00")
    ):
        funds.submit_claim(session, actor, found.id, "1000.01", b"x", "a.pdf", settings.var_dir)
    with pytest.raises(FieldError, match="proof: a file of type"):
        funds.submit_claim(session, actor, found.id, "10", b"x", "a.exe", settings.var_dir)
    with pytest.raises(FieldError, match="period: the partner already has an allocation for 2025-Q3"):
        funds.allocate(session, SYSTEM, partner.id, "2025-Q3", "1", "USD")
    with pytest.raises(FieldError, match="reason"):
        funds.decide_request(
            session, SYSTEM, funds.request_funds(session, actor, allocation.id, "x", "1").id, False
        )


def test_finance_page_shows_allocations_and_decides(client: TestClient, session: Session) -> None:
    _program, (partner,) = program_with_partners(session)
    sign_in(client, make_user(session, Role.OPS).email)
    page = client.get("/commissions/funds").text
    assert "No partner funds allocated yet" in page
    client.post(
        "/commissions/funds/allocations",
        data={
            "csrf_token": csrf_from(page),
            "partner_id": str(partner.id),
            "period": "2025-Q4",
            "amount": "2,500",
        },
    )
    page = client.get("/commissions/funds").text
    assert f"{partner.name} · 2025-Q4" in page and "Allocated 2,500.00 USD" in page
