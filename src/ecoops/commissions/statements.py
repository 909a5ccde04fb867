"""Statements: a partner's ledger lines of one month, each explained, with totals per state.

Finance reads any partner's; a partner user reads only its own partner's (another's is "not found").
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, func, select
from sqlalchemy.orm import Session

from ecoops.actors import Actor, ActorKind
from ecoops.commissions.ledger import month_of, period_range
from ecoops.commissions.models import CommissionEntry, Status
from ecoops.commissions.plans import money
from ecoops.pagination import Page
from ecoops.partners.models import Partner
from ecoops.permissions import NotFound, Permission, require

GUIDE = (
    "Every line earned this month, with how it was computed. Pending lines wait for approval; declined ones "
    "are shown with the reason and not owed; a reversal takes back an earlier line when its deal was "
    "reopened, lost or refunded."
)


@dataclass(frozen=True)
class Statement:
    partner: Partner
    period: str
    lines: list[CommissionEntry]
    totals: dict[str, int]  # cents per state
    currency: str
    guide = GUIDE  # the explanation the page and the PDF open with

    @property
    def earned(self) -> int:
        """What the month's lines come to, declined ones left out (they are shown, not owed)."""
        return sum(total for state, total in self.totals.items() if state != Status.DECLINED.value)


@dataclass(frozen=True)
class PeriodSummary:
    partner_id: int
    partner_name: str
    period: str
    lines: int
    earned: int  # not declined
    approved: int
    paid: int


def _readable(session: Session, actor: Actor, partner_id: int) -> Partner:
    if actor.kind == ActorKind.PARTNER_USER:
        if actor.partner_id != partner_id:
            raise NotFound("no such statement")
    else:
        require(actor, Permission.MANAGE_COMMISSIONS)
    partner = session.get(Partner, partner_id)
    if partner is None:
        raise NotFound("no such partner")
    return partner


def statement(session: Session, actor: Actor, partner_id: int, period: str, currency: str) -> Statement:
    partner = _readable(session, actor, partner_id)
    start, end = period_range(period)
    lines = list(
        session.scalars(
            select(CommissionEntry)
            .where(
                CommissionEntry.partner_id == partner_id,
                CommissionEntry.earned_on >= start,
                CommissionEntry.earned_on < end,
            )
            .order_by(CommissionEntry.earned_on, CommissionEntry.id)
        )
    )
    totals: dict[str, int] = {}
    for line in lines:
        totals[line.status] = totals.get(line.status, 0) + line.amount_cents
    return Statement(partner, month_of(start), lines, totals, lines[0].currency if lines else currency)


def summaries(
    session: Session, actor: Actor, partner_id: int | None = None, *, page: int = 1, per_page: int = 50
) -> Page[PeriodSummary]:
    """Statements there are, newest month first: per partner and month, the lines and their totals.

    A partner user gets its own partner's only, whatever `partner_id` says."""
    if actor.kind == ActorKind.PARTNER_USER:
        partner_id = actor.partner_id
    else:
        require(actor, Permission.MANAGE_COMMISSIONS)
    month = func.substr(func.cast(CommissionEntry.earned_on, String), 1, 7)

    def of(state: Status) -> Any:
        return func.sum(CommissionEntry.amount_cents).filter(CommissionEntry.status == state.value)

    query = (
        select(
            CommissionEntry.partner_id,
            Partner.name,
            month,
            func.count(),
            func.sum(CommissionEntry.amount_cents).filter(CommissionEntry.status != Status.DECLINED.value),
            of(Status.APPROVED),
            of(Status.PAID),
        )
        .join(Partner, Partner.id == CommissionEntry.partner_id)
        .group_by(CommissionEntry.partner_id, Partner.name, month)
        .order_by(month.desc(), Partner.name)
    )
    if partner_id is not None:
        query = query.where(CommissionEntry.partner_id == partner_id)
    page = max(1, page)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = session.execute(query.limit(per_page).offset((page - 1) * per_page)).all()
    items = [
        PeriodSummary(pid, name, period, count, int(earned or 0), int(approved or 0), int(paid or 0))
        for pid, name, period, count, earned, approved, paid in rows
    ]
    return Page(items=items, total=total, page=page, per_page=per_page)


CSV_COLUMNS = (
    "entry_id",
    "earned_on",
    "kind",
    "subject",
    "credit",
    "amount",
    "currency",
    "status",
    "reason",
    "explanation",
)


def statement_csv(found: Statement) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for line in found.lines:
        writer.writerow(
            [
                line.id,
                line.earned_on.isoformat(),
                line.kind,
                line.subject,
                line.credit,
                money(line.amount_cents).replace(",", ""),
                line.currency,
                line.status,
                line.status_reason,
                line.explanation,
            ]
        )
    return out.getvalue()
