"""Accrual runs: what the plans owe as of a date, written to the ledger as new credits and reversals.

A run computes every line the plans earn up to its date (engine.py, over the attribution engine's
credit), then compares them with the ledger's live credits (those not reversed) in one query:

- a line with no live credit becomes a credit, pending;
- a live credit whose line is gone (the deal was reopened, lost or refunded, or its credit moved) or
  whose amount changed is reversed while its clawback window is open (close date + the plan's days);
  a changed amount is then credited anew. After the window a credit stands.

Runs take a lock (PostgreSQL: an advisory lock; SQLite: the write lock, taken by the run's first
insert) so two finance users running at once compute one after the other; the unique key on the
ledger (models.CommissionEntry) is the backstop that makes a second credit of a line impossible.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
from sqlalchemy import exists, func, insert, select, text, update
from sqlalchemy.orm import Session, aliased

from ecoops import audit
from ecoops.actors import Actor
from ecoops.attribution.rules import settings_in_force
from ecoops.commissions import engine
from ecoops.commissions.models import AccrualRun, CommissionEntry, CommissionPlan, EntryKind, Status
from ecoops.commissions.plans import money, percent_text, plan_tables
from ecoops.config import Settings
from ecoops.engines.metrics import take_snapshot
from ecoops.metrics.feed import load_inputs
from ecoops.partners.programs import FieldError
from ecoops.permissions import Permission, require
from ecoops.referrals.models import Direction, Kind, Referral
from ecoops.referrals.models import Status as ReferralStatus

ACCRUAL_LOCK = 0x0EC0_C011  # PostgreSQL advisory lock key of accrual runs

LIVE = pa.schema(
    [
        ("entry_id", pa.int64()),
        ("plan_id", pa.int64()),
        ("partner_id", pa.int64()),
        ("subject", pa.string()),
        ("installment", pa.int64()),
        ("amount_cents", pa.int64()),
        ("closed_on", pa.date32()),
        ("status", pa.string()),
        ("clawback_days", pa.int64()),
    ]
)
CYCLES = pa.schema(
    [
        ("plan_id", pa.int64()),
        ("partner_id", pa.int64()),
        ("subject", pa.string()),
        ("installment", pa.int64()),
        ("next_cycle", pa.int64()),
    ]
)

# Live credits to reverse, with why: gone and its deal no longer won (reopened, or lost/refunded), gone
# otherwise (its credit moved to another partner or model share), or a different amount now.
REVERSALS = """
SELECT l.*, w.amount_cents AS now_cents,
    CASE
        WHEN w.amount_cents IS NOT NULL THEN 'amount now ' || w.amount_cents
        WHEN o.opportunity_crm_id IS NULL THEN 'no longer qualifies'
        WHEN NOT o.is_closed THEN 'deal reopened'
        WHEN NOT o.is_won THEN 'deal lost or refunded'
        ELSE 'no longer credited to this partner'
    END AS why
FROM commission_live l
LEFT JOIN commission_wanted w USING (plan_id, partner_id, subject, installment)
LEFT JOIN opportunity_as_of o ON o.opportunity_crm_id = l.subject
WHERE (w.amount_cents IS NULL OR w.amount_cents <> l.amount_cents)
  AND $as_of <= l.closed_on + CAST(l.clawback_days AS INTEGER)
"""
# Lines to credit: those with no live credit, and those whose live credit is reversed above.
CREDITS = """
SELECT w.*, coalesce(n.next_cycle, 0) AS cycle
FROM commission_wanted w
LEFT JOIN commission_live l USING (plan_id, partner_id, subject, installment)
LEFT JOIN commission_cycles n USING (plan_id, partner_id, subject, installment)
WHERE l.entry_id IS NULL
   OR (l.amount_cents <> w.amount_cents AND $as_of <= l.closed_on + CAST(l.clawback_days AS INTEGER))
ORDER BY w.partner_id, w.earned_on, w.subject, w.plan_id, w.installment
"""


def _bounties(session: Session, tz: ZoneInfo) -> pa.Table:
    """Inbound referrals and registrations approved, dated their approval day in the workspace zone."""
    rows = session.execute(
        select(Referral.id, Referral.partner_id, Referral.kind, Referral.decided_at).where(
            Referral.direction == Direction.INBOUND.value,
            Referral.status == ReferralStatus.APPROVED.value,
            Referral.decided_at.is_not(None),
        )
    ).all()
    return pa.Table.from_pylist(
        [
            {
                "subject": f"referral:{referral_id}",
                "partner_id": partner_id,
                "credit": "registration" if kind == Kind.DEAL_REGISTRATION.value else "referral",
                "approved_on": _local_day(decided_at, tz) if decided_at else None,
            }
            for referral_id, partner_id, kind, decided_at in rows
        ],
        schema=engine.BOUNTIES,
    )


def _local_day(moment: datetime, tz: ZoneInfo) -> date:
    return (moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo("UTC"))).astimezone(tz).date()


def _live(session: Session) -> tuple[pa.Table, pa.Table]:
    """The ledger's credits not reversed, and each line's next free cycle."""
    reversal = aliased(CommissionEntry)
    credits = session.execute(
        select(
            CommissionEntry.id,
            CommissionEntry.plan_id,
            CommissionEntry.partner_id,
            CommissionEntry.subject,
            CommissionEntry.installment,
            CommissionEntry.amount_cents,
            CommissionEntry.closed_on,
            CommissionEntry.status,
            CommissionPlan.clawback_days,
        )
        .join(CommissionPlan, CommissionPlan.id == CommissionEntry.plan_id)
        .where(
            CommissionEntry.kind == EntryKind.CREDIT.value,
            ~exists().where(reversal.reverses_id == CommissionEntry.id),
        )
    ).all()
    cycles = session.execute(
        select(
            CommissionEntry.plan_id,
            CommissionEntry.partner_id,
            CommissionEntry.subject,
            CommissionEntry.installment,
            func.max(CommissionEntry.cycle) + 1,
        )
        .where(CommissionEntry.kind == EntryKind.CREDIT.value)
        .group_by(
            CommissionEntry.plan_id,
            CommissionEntry.partner_id,
            CommissionEntry.subject,
            CommissionEntry.installment,
        )
    ).all()
    return (
        pa.Table.from_pylist([dict(zip(LIVE.names, row, strict=True)) for row in credits], schema=LIVE),
        pa.Table.from_pylist([dict(zip(CYCLES.names, row, strict=True)) for row in cycles], schema=CYCLES),
    )


def _tier(line: dict[str, Any]) -> str:
    return f" (volume {money(line['volume_cents'])} this month, tier from {money(line['tier_from_cents'])})"


def _explain(line: dict[str, Any], plan: CommissionPlan, model: str) -> str:
    """Why this amount: the deal or referral, the credit, the rule and rate, the installment, any cap."""
    if line["rate_ppm"] is None:
        parts = [
            f"{line['subject']}: approved {line['credit']} on {line['closed_on']}",
            f"bounty {money(line['raw_cents'])}",
        ]
    else:
        parts = [
            f"deal {line['subject']} won {line['closed_on']}",
            f"{line['credit']} credit {money(line['credited_cents'])} ({model} attribution)",
            f"x {percent_text(line['rate_ppm'])}" + (_tier(line) if line["tier_from_cents"] else ""),
        ]
        if plan.months:
            parts.append(f"month {line['installment'] + 1} of {plan.months}: 1/12 of the yearly figure")
    if line["capped"]:
        unit = "deal" if line["capped"] == "deal" else "month"
        parts.append(f"capped per {unit}, {money(line['raw_cents'])} before the cap")
    return f"{plan.name}: " + "; ".join(parts)


def accrue(session: Session, actor: Actor, config: Settings, as_of: date) -> AccrualRun:
    """Compute the plans' lines as of `as_of` and write the credits and reversals they call for."""
    require(actor, Permission.MANAGE_COMMISSIONS)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ACCRUAL_LOCK})
    run = AccrualRun(as_of=as_of, ran_by=actor.label)
    session.add(run)
    session.flush()  # SQLite: the write lock from here on
    latest = session.scalar(select(func.max(AccrualRun.as_of)).where(AccrualRun.id != run.id))
    if latest is not None and as_of < latest:
        raise FieldError("as_of", f"accruals already ran as of {latest}; a run goes forward from there")
    plans = {p.id: p for p in session.scalars(select(CommissionPlan))}
    plan_table, rates, plan_partners = plan_tables(session)
    live, cycles = _live(session)
    feed = load_inputs(session, config.tz)
    with take_snapshot(feed.inputs, as_of, settings_in_force(session, config.currency)) as snapshot:
        con = snapshot.connection
        wanted = engine.accrual_lines(
            con,
            as_of,
            credits=engine.credits_from_snapshot(snapshot, config.attribution_model),
            bounties=_bounties(session, config.tz),
            plans=plan_table,
            rates=rates,
            plan_partners=plan_partners,
        )
        for name, table in (
            ("commission_wanted", wanted),
            ("commission_live", live),
            ("commission_cycles", cycles),
        ):
            con.register(name, table)
        reversals = con.sql(REVERSALS, params={"as_of": as_of}).to_arrow_table().to_pylist()
        credits = con.sql(CREDITS, params={"as_of": as_of}).to_arrow_table().to_pylist()
    reversal_ids = _write_reversals(session, actor, reversals, as_of)
    credit_ids = _write_credits(session, actor, credits, plans, config.attribution_model)
    run.credits, run.reversals = len(credit_ids), len(reversal_ids)
    audit.record(
        session,
        actor,
        "commissions.accrued",
        "commission_run",
        run.id,
        as_of=str(as_of),
        credits=credit_ids,
        reversals=reversal_ids,
    )
    return run


def _write_reversals(session: Session, actor: Actor, rows: list[dict[str, Any]], as_of: date) -> list[int]:
    """A reversing entry per credit. One already approved or paid is clawed back by a pending reversal that
    finance approves like a credit; one not yet approved is declined together with its reversal."""
    ids = []
    for row in rows:
        credit = session.get(CommissionEntry, row["entry_id"])
        assert credit is not None
        approved = credit.status in (Status.APPROVED.value, Status.PAID.value)
        why = row["why"] if row["now_cents"] is None else f"amount now {money(row['now_cents'])}"
        reason = f"reverses entry {credit.id}: {why} (as of {as_of})"
        reversal = CommissionEntry(
            plan_id=credit.plan_id,
            partner_id=credit.partner_id,
            subject=credit.subject,
            installment=credit.installment,
            cycle=credit.cycle,
            kind=EntryKind.REVERSAL.value,
            reverses_id=credit.id,
            amount_cents=-credit.amount_cents,
            currency=credit.currency,
            earned_on=as_of,
            closed_on=credit.closed_on,
            credit=credit.credit,
            credited_cents=credit.credited_cents,
            rate_ppm=credit.rate_ppm,
            explanation=f"Reversal of entry {credit.id}: {why}. {credit.explanation}",
            status=Status.PENDING.value if approved else Status.DECLINED.value,
            status_reason="" if approved else reason,
            created_by=actor.label,
        )
        session.add(reversal)
        if not approved and credit.status != Status.DECLINED.value:
            session.execute(
                update(CommissionEntry)
                .where(CommissionEntry.id == credit.id, CommissionEntry.status == credit.status)
                .values(
                    status=Status.DECLINED.value,
                    status_reason=reason,
                    status_changed_by=actor.label,
                    status_changed_at=audit.utcnow(),
                )
            )
        session.flush()
        ids.append(reversal.id)
    return ids


def _write_credits(
    session: Session, actor: Actor, rows: list[dict[str, Any]], plans: dict[int, CommissionPlan], model: str
) -> list[int]:
    if not rows:
        return []
    values = [
        {
            "plan_id": row["plan_id"],
            "partner_id": row["partner_id"],
            "subject": row["subject"],
            "installment": row["installment"],
            "cycle": row["cycle"],
            "kind": EntryKind.CREDIT.value,
            "reverses_id": None,
            "amount_cents": row["amount_cents"],
            "currency": plans[row["plan_id"]].currency,
            "earned_on": row["earned_on"],
            "closed_on": row["closed_on"],
            "credit": row["credit"],
            "credited_cents": row["credited_cents"],
            "rate_ppm": row["rate_ppm"],
            "explanation": _explain(row, plans[row["plan_id"]], model),
            "status": Status.PENDING.value,
            "status_reason": "",
            "status_changed_by": "",
            "status_changed_at": None,
            "bill_number": "",
            "paid_on": None,
            "payment_reference": "",
            "created_by": actor.label,
            "created_at": audit.utcnow(),
        }
        for row in rows
    ]
    first = session.scalar(select(func.max(CommissionEntry.id))) or 0
    session.execute(insert(CommissionEntry), values)
    return list(
        session.scalars(
            select(CommissionEntry.id).where(
                CommissionEntry.id > first, CommissionEntry.kind == EntryKind.CREDIT.value
            )
        )
    )
