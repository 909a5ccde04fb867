"""Program costs (entered per month, or taken from the commission ledger) and the ROI and efficiency
figures over a period, each with the links to the records behind it (docs/metrics.md, "Program ROI").

Revenue and pipeline are the metrics engine's own figures (metrics/service.py) for the same period and
as-of date, so the ROI dashboard agrees with the program overview to the cent.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.accounts.models import User
from ecoops.actors import Actor
from ecoops.commissions.models import CommissionEntry, EntryKind, Status
from ecoops.config import Settings
from ecoops.engines.metrics import Period
from ecoops.metrics import service as metrics
from ecoops.partners.models import Partner, Stage
from ecoops.partners.programs import FieldError
from ecoops.permissions import NotFound, Permission, require
from ecoops.roi.models import CostCategory, CostSource, ProgramCost, RoiSetting

DEFAULT_MARGIN = Decimal("0.8")
MAX_AMOUNT = Decimal("1e13")
MANAGED_STAGES = (Stage.SIGNED.value, Stage.ONBOARDING.value, Stage.ACTIVE.value, Stage.PRODUCING.value)


def month_end(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def gross_margin(session: Session) -> Decimal:
    """The stored gross margin (0 to 1), else the default 0.8."""
    stored = session.scalar(select(RoiSetting.gross_margin).order_by(RoiSetting.id).limit(1))
    return Decimal(stored) if stored is not None else DEFAULT_MARGIN


def set_gross_margin(session: Session, actor: Actor, value: str) -> Decimal:
    """Store the gross margin, given as a share ("0.75") or a percentage ("75%")."""
    require(actor, Permission.MANAGE_METRIC_SETTINGS)
    text = value.strip()
    try:
        margin = Decimal(text.rstrip("%").strip()) / (100 if text.endswith("%") else 1)
    except InvalidOperation:
        raise FieldError(
            "gross_margin", f"must be a share such as 0.8 or a percentage such as 80%, not {value!r}"
        ) from None
    if not Decimal(0) < margin <= Decimal(1):
        raise FieldError("gross_margin", "must be more than 0 and at most 1 (100%)")
    margin = margin.quantize(Decimal("0.0001"))
    row = session.scalar(select(RoiSetting).order_by(RoiSetting.id).limit(1)) or RoiSetting()
    before = row.gross_margin
    row.gross_margin, row.updated_by, row.updated_at = margin, actor.label, audit.utcnow()
    session.add(row)
    session.flush()
    audit.record(
        session, actor, "roi.gross_margin_set", "roi_settings", row.id, before=str(before), after=str(margin)
    )
    return margin


def _amount(value: str) -> Decimal:
    try:
        amount = Decimal(value.strip().replace(",", ""))
    except InvalidOperation:
        raise FieldError("amount", f"must be a number, not {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise FieldError("amount", "must be 0 or more")
    if amount >= MAX_AMOUNT or amount != amount.quantize(Decimal("0.01")):
        raise FieldError("amount", "at most 2 decimals and less than 10,000,000,000,000")
    return amount


def add_cost(
    session: Session, actor: Actor, *, spent_on: date, category: str, amount: str, note: str = ""
) -> ProgramCost:
    """Record an amount the program cost; entered by month, dated the month's first day by the form."""
    require(actor, Permission.MANAGE_METRIC_SETTINGS)
    if category not in tuple(CostCategory):
        raise FieldError("category", f"must be one of {', '.join(CostCategory)}, not {category!r}")
    cost = ProgramCost(
        spent_on=spent_on,
        category=category,
        amount=_amount(amount),
        source=CostSource.ENTERED.value,
        note=note.strip()[:2000],
        created_by=actor.label,
    )
    session.add(cost)
    session.flush()
    audit.record(
        session,
        actor,
        "roi.cost_added",
        "program_cost",
        cost.id,
        spent_on=spent_on.isoformat(),
        category=category,
        amount=str(cost.amount),
    )
    return cost


def delete_cost(session: Session, actor: Actor, cost_id: int) -> ProgramCost:
    require(actor, Permission.MANAGE_METRIC_SETTINGS)
    cost = session.get(ProgramCost, cost_id)
    if cost is None:
        raise NotFound(f"no program cost {cost_id}")
    audit.record(
        session,
        actor,
        "roi.cost_deleted",
        "program_cost",
        cost.id,
        spent_on=cost.spent_on.isoformat(),
        category=cost.category,
        amount=str(cost.amount),
    )
    session.delete(cost)
    session.flush()
    return cost


def ledger_costs(session: Session, month: date) -> dict[CostCategory, Decimal]:
    """The month's commission ledger, as costs: partner-fund reimbursements as funds, every other line
    (credits and their reversals) as commissions; declined lines cost nothing."""
    start, end = month.replace(day=1), month_end(month)
    rows = session.execute(
        select(CommissionEntry.kind, func.sum(CommissionEntry.amount_cents))
        .where(
            CommissionEntry.earned_on >= start,
            CommissionEntry.earned_on <= end,
            CommissionEntry.status != Status.DECLINED.value,
        )
        .group_by(CommissionEntry.kind)
    )
    found = {CostCategory.FUNDS: Decimal(0), CostCategory.COMMISSIONS: Decimal(0)}
    for kind, cents in rows:
        category = CostCategory.FUNDS if kind == EntryKind.REIMBURSEMENT else CostCategory.COMMISSIONS
        found[category] += Decimal(int(cents or 0)) / 100
    return found


def take_from_ledger(session: Session, actor: Actor, month: date) -> dict[CostCategory, Decimal]:
    """Replace the month's ledger-taken costs with the ledger's current totals, dated the month's 1st as
    the form dates a month's cost (a period that holds the month's start counts the month, this one's so
    far included); taking a month twice leaves one row per category."""
    require(actor, Permission.MANAGE_METRIC_SETTINGS)
    start, end = month.replace(day=1), month_end(month)
    session.execute(
        delete(ProgramCost).where(
            ProgramCost.source == CostSource.LEDGER.value,
            ProgramCost.spent_on >= start,
            ProgramCost.spent_on <= end,
        )
    )
    found = ledger_costs(session, month)
    for category, amount in found.items():
        if amount:
            session.add(
                ProgramCost(
                    spent_on=start,
                    category=category.value,
                    amount=amount,
                    source=CostSource.LEDGER.value,
                    note=f"commission ledger, {start:%Y-%m}",
                    created_by=actor.label,
                )
            )
    session.flush()
    audit.record(
        session,
        actor,
        "roi.ledger_taken",
        "program_cost",
        None,
        month=f"{start:%Y-%m}",
        **{c.value: str(a) for c, a in found.items()},
    )
    return found


def costs(session: Session, actor: Actor, period: Period) -> list[ProgramCost]:
    """The costs dated in the period (both ends included), oldest first."""
    require(actor, Permission.READ_METRICS)
    return list(
        session.scalars(
            select(ProgramCost)
            .where(ProgramCost.spent_on >= period.start, ProgramCost.spent_on <= period.end)
            .order_by(ProgramCost.spent_on, ProgramCost.category, ProgramCost.id)
        )
    )


def partner_managers(session: Session) -> int:
    """Active users who own at least one signed, not churned partner (today's owners: no history kept)."""
    return int(
        session.scalar(
            select(func.count(func.distinct(Partner.owner_id)))
            .join(User, User.id == Partner.owner_id)
            .where(User.is_active, Partner.stage.in_(MANAGED_STAGES))
        )
        or 0
    )


def ratio(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    """numerator ÷ denominator, or None (not defined) when the denominator is 0."""
    return None if denominator == 0 else numerator / denominator


@dataclass(frozen=True)
class Month:
    month: str  # "2025-03"
    cost: Decimal
    sourced_profit: Decimal
    influenced_profit: Decimal


@dataclass(frozen=True)
class Roi:
    """The figures of docs/metrics.md "Program ROI" over one period, as of its last day."""

    period: Period
    as_of: date
    margin: Decimal
    cost_by_category: dict[str, Decimal]
    sourced_revenue: Decimal
    influenced_revenue: Decimal
    pipeline: dict[str, Decimal]  # class → open amount on the as-of date
    managers: int
    months: list[Month] = field(default_factory=list)

    @property
    def cost(self) -> Decimal:
        return sum(self.cost_by_category.values(), Decimal(0))

    @property
    def sourced_profit(self) -> Decimal:
        return self.sourced_revenue * self.margin

    @property
    def influenced_profit(self) -> Decimal:
        return self.influenced_revenue * self.margin

    @property
    def roi_sourced(self) -> Decimal | None:
        """(sourced gross profit - cost) ÷ cost."""
        return ratio(self.sourced_profit - self.cost, self.cost)

    @property
    def roi_attached(self) -> Decimal | None:
        """(sourced + influenced gross profit - cost) ÷ cost."""
        return ratio(self.sourced_profit + self.influenced_profit - self.cost, self.cost)

    @property
    def revenue_per_manager(self) -> Decimal | None:
        return ratio(self.sourced_revenue + self.influenced_revenue, Decimal(self.managers))

    @property
    def attach_rate(self) -> Decimal | None:
        """Partner-attached (sourced + influenced) share of the open pipeline."""
        attached = self.pipeline.get("sourced", Decimal(0)) + self.pipeline.get("influenced", Decimal(0))
        return ratio(attached, sum(self.pipeline.values(), Decimal(0)))

    @property
    def cost_per_sourced_dollar(self) -> Decimal | None:
        return ratio(self.cost, self.sourced_revenue)


def _money(value: object) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def roi(session: Session, actor: Actor, config: Settings, period: Period) -> Roi:
    """The ROI figures over `period`, revenue and pipeline as the records stood on its last day."""
    require(actor, Permission.READ_METRICS)
    margin = gross_margin(session)
    query = metrics.MetricsQuery(as_of=period.end, period=period)
    figures = metrics.report(
        session, actor, config, query, ["revenue", "pipeline", "revenue_by_month"]
    ).figures
    revenue = {r["classification"]: _money(r["revenue"]) for r in figures["revenue"].to_pylist()}
    pipeline = {r["classification"]: _money(r["pipeline"]) for r in figures["pipeline"].to_pylist()}
    spent = costs(session, actor, period)
    by_category: dict[str, Decimal] = {c.value: Decimal(0) for c in CostCategory}
    by_month: dict[str, Decimal] = defaultdict(Decimal)
    for cost in spent:
        by_category[cost.category] += cost.amount
        by_month[cost.spent_on.strftime("%Y-%m")] += cost.amount
    months = [
        Month(
            row["month"],
            by_month[row["month"]],
            _money(row["sourced_revenue"]) * margin,
            _money(row["influenced_revenue"]) * margin,
        )
        for row in figures["revenue_by_month"].to_pylist()
    ]
    return Roi(
        period=period,
        as_of=period.end,
        margin=margin,
        cost_by_category=by_category,
        sourced_revenue=revenue.get("sourced", Decimal(0)),
        influenced_revenue=revenue.get("influenced", Decimal(0)),
        pipeline=pipeline,
        managers=partner_managers(session),
        months=months,
    )
