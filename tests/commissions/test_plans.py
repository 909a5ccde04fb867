"""Hand-worked plans, computed to the cent: percent, tiered, capped, recurring, bounty, override, clawback."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from ecoops.actors import SYSTEM
from ecoops.commissions import ledger
from ecoops.commissions.models import Status
from ecoops.config import Settings
from ecoops.partners.programs import FieldError
from tests.commissions.world import (
    accrue,
    approved_registration,
    balance,
    change_stage,
    entries,
    plan,
    program_with_partners,
    won_deal,
)


def test_percent_of_sourced_revenue_rounds_half_up_to_the_cent(session: Session, settings: Settings) -> None:
    program, (partner,) = program_with_partners(session)
    plan(session, program, rates=[("0", "12.5")])
    won_deal(session, partner, "12345.67", date(2025, 3, 10))
    # 12,345.67 x 12.5 % = 1,543.20875 → 1,543.21
    won_deal(session, partner, "100.04", date(2025, 3, 11))  # 12.505 → 12.51 (half up)
    accrue(session, settings, date(2025, 3, 31))
    assert [e.amount_cents for e in entries(session)] == [154321, 1251]
    first = entries(session)[0]
    assert first.status == Status.PENDING.value
    assert "12.5%" in first.explanation and "12,345.67" in first.explanation


def test_influenced_plan_pays_influence_credit_only(session: Session, settings: Settings) -> None:
    program, (partner,) = program_with_partners(session)
    plan(session, program, basis="influenced", rates=[("0", "5")])
    won_deal(session, partner, "1000", date(2025, 3, 10))  # a referral: sourced, not influenced
    won_deal(session, partner, "2000", date(2025, 3, 12), kind="co_sell")
    accrue(session, settings, date(2025, 3, 31))
    assert [e.amount_cents for e in entries(session)] == [10000]  # 5 % of 2,000.00


def test_tiered_rate_by_the_months_volume(session: Session, settings: Settings) -> None:
    program, (partner,) = program_with_partners(session)
    plan(session, program, rates=[("0", "5"), ("10,000", "8")])
    won_deal(session, partner, "4000", date(2025, 3, 3))
    won_deal(session, partner, "7000", date(2025, 3, 20))  # March: 11,000 ≥ 10,000 → 8 % on both
    won_deal(session, partner, "3000", date(2025, 4, 2))  # April: 3,000 → 5 %
    accrue(session, settings, date(2025, 4, 30))
    assert [e.amount_cents for e in entries(session)] == [32000, 56000, 15000]


def test_tier_boundary_is_inclusive(session: Session, settings: Settings) -> None:
    program, (partner,) = program_with_partners(session)
    plan(session, program, rates=[("0", "5"), ("10000", "8")])
    won_deal(session, partner, "9999.99", date(2025, 3, 3))
    won_deal(session, partner, "0.01", date(2025, 4, 3))
    won_deal(session, partner, "9999.99", date(2025, 4, 4))  # April: exactly 10,000.00 → 8 %
    accrue(session, settings, date(2025, 4, 30))
    amounts = [e.amount_cents for e in entries(session)]
    # 9,999.99 x 5 % = 499.9995 → 500.00; April 0.01 x 8 % = 0.0008 → nothing;
    # 9,999.99 x 8 % = 799.9992 → 800.00
    assert amounts == [50000, 80000]


def test_caps_per_deal_and_per_month(session: Session, settings: Settings) -> None:
    program, (partner,) = program_with_partners(session)
    plan(session, program, rates=[("0", "10")], cap_deal="500", cap_period="700")
    won_deal(session, partner, "10000", date(2025, 3, 1))  # 1,000 → 500 (deal cap)
    won_deal(session, partner, "1500", date(2025, 3, 5))  # 150 → 150 (650 so far)
    won_deal(session, partner, "4000", date(2025, 3, 9))  # 400 → 50 left of the month's 700
    won_deal(session, partner, "900", date(2025, 3, 12))  # nothing left: no line
    won_deal(session, partner, "900", date(2025, 4, 1))  # a new month: 90
    accrue(session, settings, date(2025, 4, 30))
    lines = entries(session)
    assert [e.amount_cents for e in lines] == [50000, 15000, 5000, 9000]
    assert "capped per deal" in lines[0].explanation and "capped per month" in lines[2].explanation


def test_recurring_plan_earns_a_twelfth_each_month_as_far_as_the_date(
    session: Session, settings: Settings
) -> None:
    program, (partner,) = program_with_partners(session)
    plan(session, program, rates=[("0", "10")], months=3)
    won_deal(session, partner, "12000", date(2025, 1, 31))  # 12,000 x 10 % / 12 = 100.00 a month
    accrue(session, settings, date(2025, 2, 28))
    assert [(e.earned_on, e.amount_cents) for e in entries(session)] == [
        (date(2025, 1, 31), 10000),
        (date(2025, 2, 28), 10000),
    ]
    accrue(session, settings, date(2025, 6, 30))  # the third and last month only
    assert [e.installment for e in entries(session)] == [0, 1, 2]
    assert balance(session, partner) == 30000


def test_bounty_per_approved_registration(session: Session, settings: Settings) -> None:
    program, (partner,) = program_with_partners(session)
    plan(session, program, kind="bounty", basis="registration", bounty="250", rates=[])
    approved_registration(session, partner, date(2025, 3, 4))
    approved_registration(session, partner, date(2025, 4, 4))  # after the date: not yet
    accrue(session, settings, date(2025, 3, 31))
    assert [(e.subject.startswith("referral:"), e.amount_cents) for e in entries(session)] == [(True, 25000)]


def test_partner_override_replaces_the_program_plan(session: Session, settings: Settings) -> None:
    program, (usual, special) = program_with_partners(session, 2)
    plan(session, program, rates=[("0", "10")])
    plan(session, program, name="Special", partner_id=special.id, rates=[("0", "20")])
    won_deal(session, usual, "1000", date(2025, 3, 3))
    won_deal(session, special, "1000", date(2025, 3, 3))
    accrue(session, settings, date(2025, 3, 31))
    assert balance(session, usual) == 10000
    assert balance(session, special) == 20000


def test_plan_validity_is_by_close_date(session: Session, settings: Settings) -> None:
    program, (partner,) = program_with_partners(session)
    plan(session, program, rates=[("0", "10")], valid_to=date(2025, 3, 31))
    won_deal(session, partner, "1000", date(2025, 3, 31))  # last valid day
    won_deal(session, partner, "1000", date(2025, 4, 1))
    accrue(session, settings, date(2025, 4, 30))
    assert [e.amount_cents for e in entries(session)] == [10000]


def test_accruing_twice_credits_once(session: Session, settings: Settings) -> None:
    program, (partner,) = program_with_partners(session)
    plan(session, program)
    won_deal(session, partner, "1000", date(2025, 3, 3))
    accrue(session, settings, date(2025, 3, 31))
    accrue(session, settings, date(2025, 3, 31))
    accrue(session, settings, date(2025, 4, 30))
    assert len(entries(session)) == 1


@pytest.mark.all_backends
def test_reopened_within_the_window_is_reversed(backend: str, session: Session, settings: Settings) -> None:
    program, (partner,) = program_with_partners(session)
    plan(session, program, clawback_days=30)
    deal = won_deal(session, partner, "1000", date(2025, 3, 10))
    accrue(session, settings, date(2025, 3, 31))
    ledger.decide(session, SYSTEM, [entries(session)[0].id], Status.APPROVED)
    change_stage(session, deal, date(2025, 4, 1), closed=False, won=False)
    accrue(session, settings, date(2025, 4, 9))  # 30 days after the close: the last day of the window
    credit, reversal = entries(session)
    assert (reversal.amount_cents, reversal.reverses_id, reversal.status) == (-10000, credit.id, "pending")
    assert "deal reopened" in reversal.explanation
    assert balance(session, partner) == 0
    # Won again later: credited anew, once.
    change_stage(session, deal, date(2025, 4, 20), closed=True, won=True)
    accrue(session, settings, date(2025, 4, 30))
    accrue(session, settings, date(2025, 5, 31))
    assert [e.amount_cents for e in entries(session)] == [10000, -10000, 10000]
    assert balance(session, partner) == 10000


def test_lost_after_the_window_stands(session: Session, settings: Settings) -> None:
    program, (partner,) = program_with_partners(session)
    plan(session, program, clawback_days=30)
    deal = won_deal(session, partner, "1000", date(2025, 3, 10))
    accrue(session, settings, date(2025, 3, 31))
    change_stage(session, deal, date(2025, 4, 5), closed=True, won=False)
    accrue(session, settings, date(2025, 4, 10))  # 31 days after the close
    assert [e.amount_cents for e in entries(session)] == [10000]


def test_a_pending_credit_reversed_is_declined_with_its_reversal(
    session: Session, settings: Settings
) -> None:
    program, (partner,) = program_with_partners(session)
    plan(session, program)
    deal = won_deal(session, partner, "1000", date(2025, 3, 10))
    accrue(session, settings, date(2025, 3, 31))
    change_stage(session, deal, date(2025, 4, 2), closed=True, won=False)
    accrue(session, settings, date(2025, 4, 3))
    credit, reversal = entries(session)
    assert (credit.status, reversal.status) == ("declined", "declined")
    assert "deal lost or refunded" in reversal.explanation


def test_plan_fields_are_checked_by_name(session: Session) -> None:
    program, _ = program_with_partners(session)
    with pytest.raises(FieldError, match=r"rates\[1\]\.percent"):
        plan(session, program, rates=[("0", "ten")])
    with pytest.raises(FieldError, match="rates"):
        plan(session, program, rates=[("100", "10")])
    with pytest.raises(FieldError, match="currency"):
        plan(session, program, currency="EUR")
    with pytest.raises(FieldError, match="cap_deal"):
        plan(session, program, cap_deal="1.234")
