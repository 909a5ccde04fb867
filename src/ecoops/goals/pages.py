"""The goals page: the goals whose month or quarter holds a day, each with its actual and a progress bar
against the share of its period elapsed; forms to set, retarget and delete goals.

Every form posts, then comes back to /goals with a message saying what happened or what was wrong.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.accounts.models import User
from ecoops.actors import Actor, Role
from ecoops.config import Settings
from ecoops.goals import service
from ecoops.goals.actuals import progress
from ecoops.goals.models import Goal, Metric, PeriodKind, Scope
from ecoops.goals.plan import GoalLine
from ecoops.goals.service import METRIC_LABELS, SCOPE_LABELS, GoalInput, period_start
from ecoops.partners.models import Partner, Program, Stage
from ecoops.partners.programs import FieldError
from ecoops.permissions import Permission
from ecoops.web.changes import change_and_return
from ecoops.web.deps import app_settings, db, page_permission
from ecoops.web.fields import Id, IsoDate, PageNumber
from ecoops.web.security import csrf_protect
from ecoops.web.templating import render

router = APIRouter(dependencies=[Depends(csrf_protect)])
reader = page_permission(Permission.READ_METRICS)
editor = page_permission(Permission.EDIT_PROGRAM)


def _done(request: Request, work: Callable[[], str], back: str = "/goals") -> Response:
    return change_and_return(request, work, back)


def scope_choices(session: Session) -> list[tuple[str, list[tuple[str, str]]]]:
    """The scope picker's groups: (group label, [(value "program:3", name)]); the workspace first."""
    managers = session.execute(
        select(User.id, User.name)
        .where(
            User.is_active,
            (User.role == Role.PARTNER_MANAGER.value) | User.id.in_(select(Partner.owner_id)),
        )
        .order_by(User.name)
    )
    return [
        (SCOPE_LABELS[Scope.WORKSPACE], [("workspace", "The whole workspace")]),
        (
            "Programs",
            [
                (f"program:{i}", n)
                for i, n in session.execute(select(Program.id, Program.name).order_by(Program.name))
            ],
        ),
        (
            "Partners",
            [
                (f"partner:{i}", n)
                for i, n in session.execute(select(Partner.id, Partner.name).order_by(Partner.name))
            ],
        ),
        ("Partner managers", [(f"manager:{i}", f"{n}'s partners") for i, n in managers]),
    ]


def _scope_ref(value: str) -> tuple[str, int | None]:
    """ "program:3" → ("program", 3); "workspace" → ("workspace", None)."""
    scope, _, number = value.partition(":")
    if scope not in tuple(Scope) or (number and not number.isdigit()) or len(number) > 10:
        raise FieldError(
            "scope", f"pick the workspace, a program, a partner or a partner manager, not {value!r}"
        )
    return scope, int(number) if number else None


@router.get("/goals")
def goals_page(
    request: Request,
    on: IsoDate | None = Query(None),
    page: PageNumber = 1,
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    today = settings.today()
    day = on or today
    found = service.list_goals(session, actor, on=day, page=page, per_page=settings.page_size)
    return render(
        request,
        "goals/goals.html",
        day=day,
        today=today,
        page=found,
        rows=[
            GoalLine(p, service.describe_scope(session, p.goal))
            for p in progress(session, actor, settings, found.items, today)
        ],
        goal_metrics=METRIC_LABELS,
        stages=list(Stage),
        scopes=scope_choices(session),
        periods=list(PeriodKind),
        default_start=period_start(PeriodKind.QUARTER, today),
    )


@router.post("/goals")
def create_goal(
    request: Request,
    metric: str = Form(Metric.SOURCED_REVENUE.value, max_length=40),
    stage: str = Form("", max_length=40),
    scope: str = Form("workspace", max_length=60),
    period: str = Form(PeriodKind.QUARTER.value, max_length=20),
    starts_on: IsoDate = Form(...),
    target: str = Form("", max_length=40),
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
) -> Response:
    def work() -> str:
        kind, scope_id = _scope_ref(scope)
        data = GoalInput(metric, kind, period, starts_on, target, scope_id=scope_id, stage=stage)
        goal = service.create_goal(session, actor, data)
        return f"Goal set: {_title(goal)} for {service.describe_scope(session, goal)}."

    return _done(request, work, f"/goals?on={starts_on.isoformat()}")


def _title(goal: Goal) -> str:
    stage = f" ({goal.stage})" if goal.stage else ""
    metric = METRIC_LABELS[Metric(goal.metric)].lower()
    return f"{metric}{stage}, {goal.period} from {goal.starts_on.isoformat()}"


@router.post("/goals/{goal_id}")
def retarget_goal(
    request: Request,
    goal_id: Id,
    target: str = Form("", max_length=40),
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
) -> Response:
    goal = service.get_goal(session, actor, goal_id)

    def work() -> str:
        data = GoalInput(
            goal.metric,
            goal.scope,
            goal.period,
            goal.starts_on,
            target,
            scope_id=goal.scope_id,
            stage=goal.stage,
        )
        service.update_goal(session, actor, goal, data)
        return f"Goal {_title(goal)} now targets {goal.target:,}."

    return _done(request, work, f"/goals?on={goal.starts_on.isoformat()}")


@router.post("/goals/{goal_id}/delete")
def delete_goal(
    request: Request, goal_id: Id, actor: Actor = Depends(editor), session: Session = Depends(db)
) -> Response:
    goal = service.get_goal(session, actor, goal_id)

    def work() -> str:
        title = _title(goal)
        service.delete_goal(session, actor, goal)
        return f"Goal {title} deleted."

    return _done(request, work, f"/goals?on={goal.starts_on.isoformat()}")
