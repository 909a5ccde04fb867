"""REST routes of the EcoOps roadmap under /api/v1/roadmap/tasks: list with live KPI values, create,
edit, delete."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy.orm import Session

from ecoops.actors import Actor
from ecoops.config import Settings
from ecoops.maturity import roadmap
from ecoops.maturity.models import Element, MaturityStage, OpsGroup, RoadmapTask, TaskStatus
from ecoops.maturity.roadmap import TaskFilter, TaskInput
from ecoops.maturity.schemas import TaskIn, TaskOut, TaskPage, TaskPatch
from ecoops.permissions import Permission
from ecoops.web.deps import api_permission, app_settings, db
from ecoops.web.fields import Id, PageNumber, PerPage

router = APIRouter(tags=["roadmap"])
reader = api_permission(Permission.READ_METRICS)
editor = api_permission(Permission.EDIT_PROGRAM)


def _out(session: Session, actor: Actor, settings: Settings, tasks: list[RoadmapTask]) -> list[TaskOut]:
    today = settings.today()
    return [TaskOut.of(line, today) for line in roadmap.lines(session, actor, settings, tasks, today)]


@router.get("/roadmap/tasks", response_model=TaskPage)
def list_tasks(
    stage: MaturityStage | None = None,
    element: Element | None = None,
    ops_group: OpsGroup | None = None,
    status: TaskStatus | None = None,
    owner_id: Id | None = Query(None, description="the owner's user id"),
    page: PageNumber = 1,
    per_page: PerPage = 50,
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> TaskPage:
    """Roadmap tasks by due date, each with its KPI's current value as the dashboards show it today."""
    where = TaskFilter(
        stage=stage or "",
        element=element or "",
        ops_group=ops_group or "",
        status=status or "",
        owner_id=owner_id,
    )
    found = roadmap.list_tasks(session, actor, where, page=page, per_page=per_page)
    items = _out(session, actor, settings, found.items)
    return TaskPage(items=items, total=found.total, page=found.page, per_page=found.per_page)


@router.post("/roadmap/tasks", response_model=TaskOut, status_code=201)
def create_task(
    body: TaskIn,
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> TaskOut:
    """Add a task to the roadmap; 400 naming the field when one is wrong (e.g. an unknown KPI)."""
    data = TaskInput(**body.model_dump() | {"owner_id": body.owner_id or actor.id})
    return _out(session, actor, settings, [roadmap.create_task(session, actor, data)])[0]


@router.patch("/roadmap/tasks/{roadmap_task_id}", response_model=TaskOut)
def update_task(
    roadmap_task_id: Id,
    body: TaskPatch,
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> TaskOut:
    """Change a task; the fields not given keep their value."""
    task = roadmap.get_task(session, actor, roadmap_task_id)
    given = body.model_dump(exclude_unset=True)
    current = {name: getattr(task, name) for name in roadmap.FIELDS}
    merged = current | {k: v for k, v in given.items() if v is not None or k == "target"}
    roadmap.update_task(session, actor, task, TaskInput(**merged))
    return _out(session, actor, settings, [task])[0]


@router.delete("/roadmap/tasks/{roadmap_task_id}", status_code=204)
def delete_task(
    roadmap_task_id: Id, actor: Actor = Depends(editor), session: Session = Depends(db)
) -> Response:
    """Delete a roadmap task."""
    roadmap.delete_task(session, actor, roadmap.get_task(session, actor, roadmap_task_id))
    return Response(status_code=204)
