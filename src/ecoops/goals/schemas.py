"""Pydantic shapes of goals and their progress for the API."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field

from ecoops.goals.actuals import Progress, Status
from ecoops.goals.models import Metric, PeriodKind, Scope
from ecoops.partners.models import Stage
from ecoops.web.fields import Id, IsoDate, UtcDateTime


class GoalIn(BaseModel):
    """A target for one metric over one month or quarter, for the workspace or one program, partner or
    partner manager (`scope_id`: the program's, partner's or user's id; none for the workspace)."""

    metric: Metric
    stage: Stage | None = Field(None, description="the life-cycle stage; partners_in_stage goals only")
    scope: Scope
    scope_id: Id | None = None
    period: PeriodKind
    starts_on: IsoDate = Field(description="the period's first day: the 1st of a month, or of a quarter")
    target: Decimal = Field(gt=0, lt=Decimal("1e15"), decimal_places=2, description="counts: whole numbers")


class GoalPatch(BaseModel):
    """The fields to change; the others keep their value."""

    metric: Metric | None = None
    stage: Stage | None = None
    scope: Scope | None = None
    scope_id: Id | None = None
    period: PeriodKind | None = None
    starts_on: IsoDate | None = None
    target: Decimal | None = Field(None, gt=0, lt=Decimal("1e15"), decimal_places=2)


class GoalOut(BaseModel):
    """A goal, its actual as of `as_of` (null before its period begins), and how far along it is."""

    id: int
    metric: Metric
    stage: str
    scope: Scope
    scope_id: int | None
    scope_name: str
    period: PeriodKind
    starts_on: date
    ends_on: date
    target: Decimal
    actual: float | None
    as_of: date
    progress: float = Field(description="actual / target")
    period_elapsed: float = Field(description="share of the period's days up to as_of")
    status: Status
    created_by: str
    updated_at: UtcDateTime

    @classmethod
    def of(cls, found: Progress, scope_name: str) -> GoalOut:
        goal = found.goal
        return cls(
            id=goal.id,
            metric=Metric(goal.metric),
            stage=goal.stage,
            scope=Scope(goal.scope),
            scope_id=goal.scope_id,
            scope_name=scope_name,
            period=PeriodKind(goal.period),
            starts_on=goal.starts_on,
            ends_on=goal.ends_on,
            target=goal.target,
            actual=found.actual,
            as_of=found.as_of,
            progress=round(found.ratio, 4),
            period_elapsed=round(found.elapsed, 4),
            status=found.status,
            created_by=goal.created_by,
            updated_at=goal.updated_at,
        )


class GoalPage(BaseModel):
    items: list[GoalOut]
    total: int
    page: int
    per_page: int
