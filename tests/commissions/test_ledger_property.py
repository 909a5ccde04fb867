"""Property: under any sequence of reopenings, losses, wins, repricings, approvals and accrual runs, each
partner's ledger balance equals a recomputation from the plan and the deals as they stand, and no line is
ever credited twice (at most one live credit per plan, partner, deal and installment)."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.actors import SYSTEM
from ecoops.commissions import ledger
from ecoops.commissions.models import EntryKind, Status
from ecoops.config import Settings
from ecoops.crm.models import Opportunity
from tests.commissions.world import (
    accrue,
    balance,
    change_stage,
    entries,
    plan,
    program_with_partners,
    won_deal,
)

START = date(2025, 3, 1)
AMOUNTS = ("1000.00", "333.35", "12345.67", "0.05")
DEALS = 4
Step = tuple[str, int, int]  # (operation, deal, amount index)
steps = st.lists(
    st.tuples(
        st.sampled_from(["reopen", "lose", "win", "reprice", "accrue", "approve"]),
        st.integers(0, DEALS - 1),
        st.integers(0, len(AMOUNTS) - 1),
    ),
    max_size=12,
)


def _expected(amount: Decimal) -> int:
    """10 % of the deal, in cents, half up: worked out with Decimal, apart from the engine's integers."""
    return int((amount * Decimal("0.10") * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=steps)
def test_balance_is_a_recomputation_and_no_line_is_credited_twice(
    session: Session, settings: Settings, steps: list[Step]
) -> None:
    savepoint = session.begin_nested()
    try:
        _run(session, settings, steps)
    finally:
        savepoint.rollback()


def _run(session: Session, config: Settings, steps: list[Step]) -> None:
    program, partners = program_with_partners(session, 2)
    plan(session, program, rates=[("0", "10")], clawback_days=3650)
    deals = [won_deal(session, partners[i % 2], AMOUNTS[i], START) for i in range(DEALS)]
    won = dict.fromkeys(deals, True)
    amounts = {deal: Decimal(AMOUNTS[i]) for i, deal in enumerate(deals)}
    # What the last accrual run saw: the deals won then and their amounts.
    seen: dict[str, Decimal] = {}
    day = START
    for operation, index, amount in [*steps, ("accrue", 0, 0)]:
        day += timedelta(days=1)
        deal = deals[index]
        if operation in ("reopen", "lose", "win"):
            change_stage(session, deal, day, closed=operation != "reopen", won=operation == "win")
            won[deal] = operation == "win"
        elif operation == "reprice":
            opportunity = session.scalars(select(Opportunity).where(Opportunity.crm_id == deal)).one()
            opportunity.amount = amounts[deal] = Decimal(AMOUNTS[amount])
            session.flush()
        elif operation == "approve":
            pending = [e.id for e in entries(session) if e.status == Status.PENDING.value]
            if pending:
                ledger.decide(session, SYSTEM, pending, Status.APPROVED)
        else:
            accrue(session, config, day)
            seen = {d: amounts[d] for d in deals if won[d]}
    for position, partner in enumerate(partners):
        mine = [d for i, d in enumerate(deals) if i % 2 == position]
        assert balance(session, partner) == sum(_expected(seen[d]) for d in mine if d in seen)
    rows = entries(session)
    reversed_ids = {e.reverses_id for e in rows if e.kind == EntryKind.REVERSAL.value}
    live = Counter(
        (e.plan_id, e.partner_id, e.subject, e.installment)
        for e in rows
        if e.kind == EntryKind.CREDIT.value and e.id not in reversed_ids
    )
    assert all(count == 1 for count in live.values())
    assert sorted(key[2] for key in live) == sorted(seen)
