"""A workspace whose goal actuals for March and Q1 2025 are worked out by hand (tests/goals).

- Program Resellers holds Acme (managed by Dana); Beta and Cyan are in no program and unmanaged.
- Acme, Beta active since 1 Jan 2025; Cyan a prospect.
- Deal A 1,000: created 10 Jan, won 31 Mar (the quarter's and March's last day), sourced by Acme.
- Deal B 2,000: created 1 Feb, won 1 Apr (the day after), sourced by Acme: open on 31 March.
- Deal C 4,000: created 5 Jan, won 15 Mar, influenced by Beta (a co-sell on 1 Feb).
- Deal D 500: created 1 Mar, open, sourced by Beta. Deal E 300: open, direct.
- Referrals from Acme submitted 31 Mar 23:30 UTC and 1 Apr 00:30 UTC; one we sent Beta on 10 Mar;
  one from Beta on 5 Feb that was rejected (not an EQL).

By hand, as of 31 March (periods March and Q1 2025):
  sourced revenue: workspace 1,000 (A), Resellers 1,000, Acme 1,000, Dana 1,000, Beta 0
  influenced revenue: workspace 4,000 (C), Beta 4,000, Resellers 0 (in March and in Q1 alike)
  partner pipeline on 31 Mar: workspace 2,500 (B + D; E is direct), Acme 2,000, Beta 500
  referrals received: workspace 1 (Acme's of 31 Mar), Acme 1, Beta 0
  partners active on 31 Mar: workspace 2, Resellers 1; prospects: workspace 1
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from ecoops.accounts.models import User
from ecoops.actors import SYSTEM, Role
from ecoops.attribution.models import PartnerTouch
from ecoops.crm.models import Opportunity
from ecoops.partners import programs
from ecoops.partners.models import Partner, Program
from ecoops.referrals.models import Referral
from tests.factories import make_opportunity, make_partner, make_user


@dataclass
class World:
    program: Program
    manager: User
    acme: Partner
    beta: Partner
    cyan: Partner


def _touch(session: Session, partner: Partner, deal: Opportunity, kind: str, on: date) -> None:
    session.add(
        PartnerTouch(
            partner_id=partner.id,
            opportunity_crm_id=deal.crm_id,
            account_crm_id=deal.account_crm_id,
            kind=kind,
            touched_on=on,
            status="confirmed",
            evidence_type="user",
            evidence_ref="1",
            recorded_by="",
        )
    )


def _referral(
    session: Session, partner: Partner, direction: str, at: datetime, status: str = "submitted"
) -> None:
    session.add(
        Referral(
            direction=direction,
            kind="eql",
            partner_id=partner.id,
            company=f"{direction} {at:%d %b}",
            status=status,
            submitted_via="internal",
            submitted_at=at,
            estimated_value=Decimal(100),
        )
    )


def seed(session: Session) -> World:
    program = programs.create_program(session, SYSTEM, name="Resellers", tiers=["Registered"])
    manager = make_user(session, Role.PARTNER_MANAGER, name="Dana Reyes")
    since = date(2025, 1, 1)
    acme = make_partner(
        session, name="Acme", stage="active", stage_since=since, owner_id=manager.id, tiers=[program.tiers[0]]
    )
    beta = make_partner(session, name="Beta", stage="active", stage_since=since)
    cyan = make_partner(session, name="Cyan", stage="prospect", stage_since=since)
    won = {"stage": "Closed Won", "is_closed": True, "is_won": True}
    a = make_opportunity(
        session, amount=Decimal(1000), created_on=date(2025, 1, 10), close_date=date(2025, 3, 31), **won
    )
    b = make_opportunity(
        session, amount=Decimal(2000), created_on=date(2025, 2, 1), close_date=date(2025, 4, 1), **won
    )
    c = make_opportunity(
        session, amount=Decimal(4000), created_on=date(2025, 1, 5), close_date=date(2025, 3, 15), **won
    )
    d = make_opportunity(
        session, amount=Decimal(500), created_on=date(2025, 3, 1), close_date=date(2025, 6, 30)
    )
    make_opportunity(session, amount=Decimal(300), created_on=date(2025, 3, 1), close_date=date(2025, 6, 30))
    _touch(session, acme, a, "referral", date(2025, 1, 11))
    _touch(session, acme, b, "referral", date(2025, 2, 2))
    _touch(session, beta, c, "co_sell", date(2025, 2, 1))
    _touch(session, beta, d, "referral", date(2025, 3, 2))
    _referral(session, acme, "inbound", datetime(2025, 3, 31, 23, 30, tzinfo=UTC))
    _referral(session, acme, "inbound", datetime(2025, 4, 1, 0, 30, tzinfo=UTC))
    _referral(session, beta, "outbound", datetime(2025, 3, 10, 12, tzinfo=UTC), status="sent")
    _referral(session, beta, "inbound", datetime(2025, 2, 5, 12, tzinfo=UTC), status="rejected")
    session.flush()
    return World(program, manager, acme, beta, cyan)
