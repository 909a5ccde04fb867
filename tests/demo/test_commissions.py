"""The demo's commissions: plans from last month, last month's lines pending for finance, a partner with a
portal user seeing its statement, and one approved deal reopened this month and reversed."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from ecoops.accounts.service import partner_user_actor
from ecoops.actors import SYSTEM
from ecoops.commissions import statements
from ecoops.config import Settings
from ecoops.demo.commissions import seed_commissions
from tests.commissions.world import approved_registration, entries, program_with_partners, won_deal
from tests.factories import make_partner_user


def test_demo_commissions(session: Session, settings: Settings) -> None:
    _program, (plain, portal) = program_with_partners(session, 2)
    user = make_partner_user(session, portal)
    won_deal(session, plain, "5000", date(2025, 3, 5))
    reopened = won_deal(session, portal, "8000", date(2025, 3, 20))
    won_deal(session, portal, "1000", date(2025, 2, 20))  # before the plans: not paid
    approved_registration(session, plain, date(2025, 3, 9))
    assert seed_commissions(session, SYSTEM, settings, date(2025, 4, 10)) == 5
    lines = [(e.partner_id, e.subject, e.amount_cents, e.status) for e in entries(session)]
    assert lines[:3] == [
        (plain.id, lines[0][1], 50000, "pending"),  # 10 % of 5,000
        (plain.id, lines[1][1], 25000, "pending"),  # the registration bounty
        (portal.id, reopened, 80000, "approved"),  # approved, then reopened on 1 April
    ]
    assert lines[3] == (portal.id, reopened, -80000, "pending")
    april = statements.statement(session, partner_user_actor(user), portal.id, "2025-04", "USD")
    reversal = next(line for line in april.lines if line.kind == "reversal")
    assert reversal.amount_cents == -80000 and "deal reopened" in reversal.explanation
    # The partner's funds claim, reimbursed and approved, is on the statement of the month it was approved.
    reimbursed = [e for e in entries(session, portal) if e.kind == "reimbursement"]
    assert [(e.amount_cents, e.status) for e in reimbursed] == [(385000, "approved")]
