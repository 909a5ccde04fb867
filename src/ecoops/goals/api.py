"""REST routes of goals under /api/v1/goals: list them with their actuals, create, edit, delete."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy.orm import Session

from ecoops.actors import Actor
from ecoops.config import Settings
from ecoops.goals import service
from ecoops.goals.actuals import progress
from ecoops.goals.models import Goal
from ecoops.goals.schemas import GoalIn, GoalOut, GoalPage, GoalPatch
from ecoops.goals.service import GoalInput
from ecoops.permissions import Permission
from ecoops.web.deps import api_permission, app_settings, db
from ecoops.web.fields import Id, IsoDate, PageNumber, PerPage

router = APIRouter(tags=["goals"])
reader = api_permission(Permission.READ_METRICS)
editor = api_permission(Permission.EDIT_PROGRAM)


def _out(session: Session, actor: Actor, settings: Settings, goals: list[Goal], today: date) -> list[GoalOut]:
    return [
        GoalOut.of(found, service.describe_scope(session, found.goal))
        for found in progress(session, actor, settings, goals, today)
    ]


@router.get("/goals", response_model=GoalPage)
def list_goals(
    on: IsoDate | None = Query(None, description="only the goals whose month or quarter holds this day"),
    as_of: IsoDate | None = Query(None, description="actuals as of this day (default: today)"),
    page: PageNumber = 1,
    per_page: PerPage = 50,
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> GoalPage:
    """Goals, latest period first, each with its actual and progress.

    An actual stands as of the period's last day, or of `as_of` while the period runs.
    """
    found = service.list_goals(session, actor, on=on, page=page, per_page=per_page)
    items = _out(session, actor, settings, found.items, as_of or settings.today())
    return GoalPage(items=items, total=found.total, page=found.page, per_page=found.per_page)


@router.post("/goals", response_model=GoalOut, status_code=201)
def create_goal(
    body: GoalIn,
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> GoalOut:
    """Set a goal; 400 when one of the same metric, scope and period exists, naming it."""
    goal = service.create_goal(
        session,
        actor,
        GoalInput(
            metric=body.metric,
            stage=body.stage or "",
            scope=body.scope,
            scope_id=body.scope_id,
            period=body.period,
            starts_on=body.starts_on,
            target=body.target,
        ),
    )
    return _out(session, actor, settings, [goal], settings.today())[0]


@router.patch("/goals/{goal_id}", response_model=GoalOut)
def update_goal(
    goal_id: Id,
    body: GoalPatch,
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> GoalOut:
    """Change a goal's target, period, metric or scope; the fields not given keep their value.

    A new `scope` without a `scope_id` names no program, partner or manager (the old one is not carried over).
    """
    goal = service.get_goal(session, actor, goal_id)
    given = body.model_fields_set
    scope = body.scope or goal.scope
    data = GoalInput(
        metric=body.metric or goal.metric,
        stage=(body.stage or "") if "stage" in given else goal.stage,
        scope=scope,
        scope_id=body.scope_id if "scope_id" in given else (goal.scope_id if scope == goal.scope else None),
        period=body.period or goal.period,
        starts_on=body.starts_on or goal.starts_on,
        target=body.target or goal.target,
    )
    service.update_goal(session, actor, goal, data)
    return _out(session, actor, settings, [goal], settings.today())[0]


@router.delete("/goals/{goal_id}", status_code=204)
def delete_goal(goal_id: Id, actor: Actor = Depends(editor), session: Session = Depends(db)) -> Response:
    """Delete a goal."""
    service.delete_goal(session, actor, service.get_goal(session, actor, goal_id))
    return Response(status_code=204)
