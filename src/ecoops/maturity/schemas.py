"""Pydantic shapes of roadmap tasks for the API."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field

from ecoops.maturity.models import Element, MaturityStage, OpsGroup, TaskStatus
from ecoops.maturity.roadmap import TaskLine
from ecoops.web.fields import Id, IsoDate, UtcDateTime

KPI_HELP = "a KPI of the metrics engine: GET /roadmap's KPI list or docs/maturity.md"
TARGET_HELP = "the KPI's target; shares as fractions (0.25 for 25%)"


class TaskIn(BaseModel):
    """An EcoOps task: its place on the grid (element x ops group), stage, owner, due date, status, the
    desired outcome and the KPI it moves, with a target."""

    title: str = Field(min_length=1, max_length=200)
    stage: MaturityStage
    element: Element
    ops_group: OpsGroup
    owner_id: Id | None = Field(None, description="the owner's user id (default: you)")
    due_on: IsoDate
    status: TaskStatus = TaskStatus.PLANNED
    kpi: str = Field(max_length=40, description=KPI_HELP)
    target: Decimal | None = Field(None, ge=0, lt=Decimal("1e14"), decimal_places=4, description=TARGET_HELP)
    outcome: str = Field("", max_length=2000)


class TaskPatch(BaseModel):
    """The fields to change; the others keep their value (send "target": null to clear the target)."""

    title: str | None = Field(None, min_length=1, max_length=200)
    stage: MaturityStage | None = None
    element: Element | None = None
    ops_group: OpsGroup | None = None
    owner_id: Id | None = None
    due_on: IsoDate | None = None
    status: TaskStatus | None = None
    kpi: str | None = Field(None, max_length=40, description=KPI_HELP)
    target: Decimal | None = Field(None, ge=0, lt=Decimal("1e14"), decimal_places=4, description=TARGET_HELP)
    outcome: str | None = Field(None, max_length=2000)


class TaskOut(BaseModel):
    """A task with its KPI's current value: the dashboards' figure for the same KPI, as of `as_of`."""

    id: int
    title: str
    stage: MaturityStage
    element: Element
    ops_group: OpsGroup
    owner_id: int | None
    owner: str
    due_on: date
    status: TaskStatus
    outcome: str
    kpi: str
    kpi_label: str
    current_value: float | None = Field(description="null: no data (e.g. a share of nothing)")
    target: Decimal | None
    as_of: date
    created_by: str
    updated_at: UtcDateTime

    @classmethod
    def of(cls, line: TaskLine, as_of: date) -> TaskOut:
        task = line.task
        return cls(
            id=task.id,
            title=task.title,
            stage=MaturityStage(task.stage),
            element=Element(task.element),
            ops_group=OpsGroup(task.ops_group),
            owner_id=task.owner_id,
            owner=line.owner,
            due_on=task.due_on,
            status=TaskStatus(task.status),
            outcome=task.outcome,
            kpi=task.kpi,
            kpi_label=line.kpi.label,
            current_value=line.value,
            target=task.target,
            as_of=as_of,
            created_by=task.created_by,
            updated_at=task.updated_at,
        )


class TaskPage(BaseModel):
    items: list[TaskOut]
    total: int
    page: int
    per_page: int
