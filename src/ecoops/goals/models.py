"""The goals table: one target per metric, scope and period (month or quarter, named by its first day)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Date, DateTime, ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ecoops.audit import utcnow
from ecoops.db import Base


class Metric(StrEnum):
    SOURCED_REVENUE = "sourced_revenue"
    INFLUENCED_REVENUE = "influenced_revenue"
    PARTNER_PIPELINE = "partner_pipeline"
    REFERRALS = "referrals"
    PARTNERS_IN_STAGE = "partners_in_stage"


MONEY_METRICS = frozenset({Metric.SOURCED_REVENUE, Metric.INFLUENCED_REVENUE, Metric.PARTNER_PIPELINE})


class Scope(StrEnum):
    WORKSPACE = "workspace"
    PROGRAM = "program"
    PARTNER = "partner"
    MANAGER = "manager"  # a partner manager: the partners whose owner the user is


class PeriodKind(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"


def period_end(kind: str, start: date) -> date:
    """The last day of the month or quarter that begins on `start`."""
    months = 1 if kind == PeriodKind.MONTH else 3
    month = start.month - 1 + months
    following = date(start.year + month // 12, month % 12 + 1, 1)
    return following - timedelta(days=1)


class Goal(Base):
    """A target for one metric over one month or quarter, for the workspace or one program, partner or
    partner manager. `scope_key` ("workspace", "program:3", …) carries the unique constraint, which
    nullable foreign keys could not (NULLs never clash)."""

    __tablename__ = "goals"
    __table_args__ = (UniqueConstraint("metric", "stage", "scope_key", "period", "starts_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    metric: Mapped[str] = mapped_column(String(30))
    stage: Mapped[str] = mapped_column(String(20), default="")  # partners_in_stage only
    scope: Mapped[str] = mapped_column(String(10))
    scope_key: Mapped[str] = mapped_column(String(30))
    program_id: Mapped[int | None] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(10))
    starts_on: Mapped[date] = mapped_column(Date, index=True)
    target: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @property
    def ends_on(self) -> date:
        return period_end(self.period, self.starts_on)

    @property
    def scope_id(self) -> int | None:
        return self.program_id or self.partner_id or self.user_id
