"""Reading and deciding ledger entries: finance's list, approve / decline / hold, and the balance.

A decision is one conditional UPDATE per state it may come from, so two finance users deciding the
same lines at once cannot both move one (the second finds it already moved and reports it skipped).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.actors import Actor
from ecoops.commissions.models import TRANSITIONS, CommissionEntry, Status
from ecoops.events.models import EventKind
from ecoops.events.outbox import emit, emit_many
from ecoops.pagination import Page, paginate
from ecoops.partners.models import Partner
from ecoops.partners.programs import FieldError
from ecoops.permissions import Permission, require

REASON_MAX = 2000
DECISIONS = (Status.APPROVED, Status.DECLINED, Status.HELD)


@dataclass(frozen=True)
class Decision:
    changed: list[int]
    skipped: list[int]  # not in a state the decision may follow (decided meanwhile, or paid)


def month_of(day: date) -> str:
    return day.strftime("%Y-%m")


def period_range(period: str) -> tuple[date, date]:
    """ "2025-03" → (2025-03-01, 2025-04-01): the month's first day and the next month's."""
    try:
        year, month = (int(part) for part in period.split("-"))
        start = date(year, month, 1)
    except ValueError:
        raise FieldError("period", f"{period!r} is not a month, e.g. 2025-03") from None
    return start, date(year + month // 12, month % 12 + 1, 1)


def decide(session: Session, actor: Actor, entry_ids: list[int], decision: str, reason: str = "") -> Decision:
    """Move the entries to `decision` (approved, declined or held); declining or holding needs a reason."""
    require(actor, Permission.MANAGE_COMMISSIONS)
    if decision not in DECISIONS:
        raise FieldError("decision", f"one of {', '.join(DECISIONS)}")
    to = Status(decision)
    reason = reason.strip()
    if to in (Status.DECLINED, Status.HELD) and not reason:
        raise FieldError("reason", f"say why the lines are {to.value}")
    if len(reason) > REASON_MAX:
        raise FieldError("reason", f"at most {REASON_MAX} characters")
    ids = sorted(set(entry_ids))
    if not ids:
        raise FieldError("entry_ids", "choose at least one line")
    sources = [state.value for state, targets in TRANSITIONS.items() if to in targets]
    changed = list(
        session.scalars(
            update(CommissionEntry)
            .where(CommissionEntry.id.in_(ids), CommissionEntry.status.in_(sources))
            .values(
                status=to.value,
                status_reason=reason,
                status_changed_by=actor.label,
                status_changed_at=audit.utcnow(),
            )
            .returning(CommissionEntry.id)
        )
    )
    changed.sort()
    if changed:
        audit.record(
            session,
            actor,
            f"commission_entries.{to.value}",
            "commission_entry",
            ",".join(map(str, changed[:20])),
            entries=changed,
            reason=reason,
        )
    if to == Status.APPROVED and changed:
        _announce_approved(session, changed)
    return Decision(changed, [i for i in ids if i not in set(changed)])


def _announce_approved(session: Session, ids: list[int]) -> None:
    """An event per approved line, and per partner and month now with nothing left to decide, one saying
    its statement is ready."""
    rows = session.execute(
        select(CommissionEntry, Partner.name)
        .join(Partner, Partner.id == CommissionEntry.partner_id)
        .where(CommissionEntry.id.in_(ids))
    ).all()
    emit_many(
        session,
        EventKind.COMMISSION_APPROVED,
        [
            {
                "partner_id": e.partner_id,
                "opportunity_crm_id": "" if e.subject.startswith("referral:") else e.subject,
                "payload": {
                    "entry_id": e.id,
                    "partner_name": name,
                    "amount": f"{e.amount_cents / 100:.2f}",
                    "currency": e.currency,
                    "period": month_of(e.earned_on),
                    "explanation": e.explanation,
                    "link": f"/commissions/statements/{e.partner_id}/{month_of(e.earned_on)}",
                },
            }
            for e, name in rows
        ],
    )
    for partner_id, name, period in sorted({(e.partner_id, name, month_of(e.earned_on)) for e, name in rows}):
        start, end = period_range(period)
        undecided = session.scalar(
            select(func.count()).where(
                CommissionEntry.partner_id == partner_id,
                CommissionEntry.earned_on >= start,
                CommissionEntry.earned_on < end,
                CommissionEntry.status.in_([Status.PENDING.value, Status.HELD.value]),
            )
        )
        if not undecided:
            emit(
                session,
                EventKind.STATEMENT_READY,
                partner_id=partner_id,
                partner_name=name,
                period=period,
                link=f"/portal/commissions/{period}",
            )


@dataclass(frozen=True)
class EntryFilters:
    status: str = ""
    partner_id: int | None = None
    period: str = ""


def search(
    session: Session, actor: Actor, filters: EntryFilters, *, page: int = 1, per_page: int = 50
) -> Page[CommissionEntry]:
    """Finance's list of ledger lines, newest earned first."""
    require(actor, Permission.MANAGE_COMMISSIONS)
    query = select(CommissionEntry)
    if filters.status:
        if filters.status not in tuple(Status):
            raise FieldError("status", f"one of {', '.join(Status)}")
        query = query.where(CommissionEntry.status == filters.status)
    if filters.partner_id is not None:
        query = query.where(CommissionEntry.partner_id == filters.partner_id)
    if filters.period:
        start, end = period_range(filters.period)
        query = query.where(CommissionEntry.earned_on >= start, CommissionEntry.earned_on < end)
    query = query.order_by(CommissionEntry.earned_on.desc(), CommissionEntry.id.desc())
    return paginate(session, query, page=page, per_page=per_page)


def totals_by_status(session: Session, actor: Actor) -> dict[str, int]:
    require(actor, Permission.MANAGE_COMMISSIONS)
    rows = session.execute(
        select(CommissionEntry.status, func.sum(CommissionEntry.amount_cents)).group_by(
            CommissionEntry.status
        )
    ).all()
    return {status: int(total or 0) for status, total in rows}
