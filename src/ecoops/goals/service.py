"""Setting goals: create, edit, delete and list them, each checked and audited.

A goal is one target for one metric, over one month or quarter (named by its first day), for the
whole workspace or one program, partner or partner manager. There is one goal per metric, stage,
scope and period: the unique constraint holds it even for two requests at the same moment, and the
second is refused with the same message as when the first was already stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.accounts.models import User
from ecoops.actors import Actor
from ecoops.goals.models import MONEY_METRICS, Goal, Metric, PeriodKind, Scope
from ecoops.pagination import Page, paginate
from ecoops.partners.models import Partner, Program, Stage
from ecoops.partners.programs import FieldError
from ecoops.permissions import NotFound, Permission, require

MAX_TARGET = Decimal("1e15")
QUARTER_MONTHS = (1, 4, 7, 10)
METRIC_LABELS = {
    Metric.SOURCED_REVENUE: "Sourced revenue",
    Metric.INFLUENCED_REVENUE: "Influenced revenue",
    Metric.PARTNER_PIPELINE: "Partner pipeline",
    Metric.REFERRALS: "Referrals received",
    Metric.PARTNERS_IN_STAGE: "Partners in stage",
}
SCOPE_LABELS = {
    Scope.WORKSPACE: "Workspace",
    Scope.PROGRAM: "Program",
    Scope.PARTNER: "Partner",
    Scope.MANAGER: "Partner manager",
}


@dataclass(frozen=True)
class GoalInput:
    """What a form or API body gives: strings for the choices, the scope's id, the period's first day."""

    metric: str
    scope: str
    period: str
    starts_on: date
    target: Decimal | str | float
    scope_id: int | None = None
    stage: str = ""


def _choice(field: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise FieldError(field, f"must be one of {', '.join(allowed)}, not {value!r}")
    return value


def _target(metric: str, value: Decimal | str | float) -> Decimal:
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise FieldError("target", f"must be a number, not {value!r}") from None
    if not amount.is_finite() or amount <= 0:
        raise FieldError("target", "must be greater than 0")
    if amount >= MAX_TARGET:
        raise FieldError("target", f"must be less than {MAX_TARGET:,.0f}")
    if metric in MONEY_METRICS:
        if amount != amount.quantize(Decimal("0.01")):
            raise FieldError("target", "an amount has at most 2 decimals")
    elif amount != amount.to_integral_value():
        raise FieldError("target", f"{metric} counts whole numbers")
    return amount.quantize(Decimal("0.01"))


def _starts_on(period: str, starts_on: date) -> date:
    if starts_on.day != 1:
        raise FieldError("starts_on", f"a {period} starts on the 1st, not on {starts_on.isoformat()}")
    if period == PeriodKind.QUARTER and starts_on.month not in QUARTER_MONTHS:
        raise FieldError("starts_on", f"a quarter starts on 1 Jan, Apr, Jul or Oct, not {starts_on}")
    return starts_on


def _scope(session: Session, goal: Goal, scope: str, scope_id: int | None) -> None:
    """Point `goal` at its scope, which must exist (a partner manager: an active internal user)."""
    goal.program_id = goal.partner_id = goal.user_id = None
    if scope == Scope.WORKSPACE:
        if scope_id:
            raise FieldError("scope_id", "the workspace scope names no program, partner or manager")
        goal.scope_key = Scope.WORKSPACE.value
        return
    if not scope_id:
        raise FieldError("scope_id", f"name the {SCOPE_LABELS[Scope(scope)].lower()} the goal is for")
    models: dict[Scope, type[Program] | type[Partner] | type[User]] = {
        Scope.PROGRAM: Program,
        Scope.PARTNER: Partner,
        Scope.MANAGER: User,
    }
    found = session.get(models[Scope(scope)], scope_id)
    if isinstance(found, User) and not found.is_active:
        found = None
    if found is None:
        raise FieldError("scope_id", f"no {SCOPE_LABELS[Scope(scope)].lower()} {scope_id}")
    if scope == Scope.PROGRAM:
        goal.program_id = scope_id
    elif scope == Scope.PARTNER:
        goal.partner_id = scope_id
    else:
        goal.user_id = scope_id
    goal.scope_key = f"{scope}:{scope_id}"


def _apply(session: Session, goal: Goal, data: GoalInput) -> None:
    metric = _choice("metric", data.metric, tuple(Metric))
    if metric == Metric.PARTNERS_IN_STAGE:
        stage = _choice("stage", data.stage, tuple(Stage))
    elif data.stage:
        raise FieldError("stage", "only a partners_in_stage goal names a stage")
    else:
        stage = ""
    scope = _choice("scope", data.scope, tuple(Scope))
    period = _choice("period", data.period, tuple(PeriodKind))
    goal.metric, goal.stage, goal.scope, goal.period = metric, stage, scope, period
    goal.starts_on = _starts_on(period, data.starts_on)
    goal.target = _target(metric, data.target)
    _scope(session, goal, scope, data.scope_id)


def _taken(session: Session, goal: Goal) -> FieldError:
    return FieldError(
        "metric",
        f"there already is a {goal.metric.replace('_', ' ')} goal for {describe_scope(session, goal)} "
        f"for the {goal.period} from {goal.starts_on.isoformat()}: edit that one",
    )


FIELDS = (
    "metric",
    "stage",
    "scope",
    "scope_key",
    "program_id",
    "partner_id",
    "user_id",
    "period",
    "starts_on",
)


def _store(session: Session, goal: Goal, values: Goal) -> None:
    """Give `goal` the checked `values` and write it; a clash with another goal of the same metric,
    scope and period is refused and leaves `goal` as it was."""
    clash = session.scalar(
        select(Goal.id).where(
            Goal.metric == values.metric,
            Goal.stage == values.stage,
            Goal.scope_key == values.scope_key,
            Goal.period == values.period,
            Goal.starts_on == values.starts_on,
            Goal.id != (goal.id or 0),
        )
    )
    if clash is not None:
        raise _taken(session, values)
    try:
        with session.begin_nested():  # a request at the same moment may have stored it meanwhile
            for name in (*FIELDS, "target"):
                setattr(goal, name, getattr(values, name))
            session.add(goal)
            session.flush()
    except IntegrityError:
        raise _taken(session, values) from None


def describe_scope(session: Session, goal: Goal) -> str:
    """ "the workspace", "program Resellers", "partner Acme", "Dana Reyes's partners"."""
    if goal.program_id:
        program = session.get(Program, goal.program_id)
        return f"program {program.name if program else goal.program_id}"
    if goal.partner_id:
        partner = session.get(Partner, goal.partner_id)
        return f"partner {partner.name if partner else goal.partner_id}"
    if goal.user_id:
        user = session.get(User, goal.user_id)
        return f"{user.name if user else goal.user_id}'s partners"
    return "the workspace"


def _snapshot(goal: Goal) -> dict[str, object]:
    return {
        "metric": goal.metric,
        "stage": goal.stage,
        "scope": goal.scope_key,
        "period": goal.period,
        "starts_on": goal.starts_on.isoformat(),
        "target": str(goal.target),
    }


def create_goal(session: Session, actor: Actor, data: GoalInput) -> Goal:
    """A new goal; FieldError names the field that is wrong, or the goal it would repeat."""
    require(actor, Permission.EDIT_PROGRAM)
    values = Goal()
    _apply(session, values, data)
    goal = Goal(created_by=actor.label)
    _store(session, goal, values)
    audit.record(session, actor, "goal.created", "goal", goal.id, **_snapshot(goal))
    return goal


def update_goal(session: Session, actor: Actor, goal: Goal, data: GoalInput) -> Goal:
    """Change any of a goal's fields, under the same checks as a new one."""
    require(actor, Permission.EDIT_PROGRAM)
    before = _snapshot(goal)
    values = Goal()
    _apply(session, values, data)
    _store(session, goal, values)
    goal.updated_at = audit.utcnow()
    audit.record(session, actor, "goal.updated", "goal", goal.id, before=before, after=_snapshot(goal))
    return goal


def delete_goal(session: Session, actor: Actor, goal: Goal) -> None:
    require(actor, Permission.EDIT_PROGRAM)
    audit.record(session, actor, "goal.deleted", "goal", goal.id, **_snapshot(goal))
    session.delete(goal)
    session.flush()


def get_goal(session: Session, actor: Actor, goal_id: int) -> Goal:
    require(actor, Permission.READ_METRICS)
    goal = session.get(Goal, goal_id)
    if goal is None:
        raise NotFound(f"no goal {goal_id}")
    return goal


def in_force(on: date) -> ColumnElement[bool]:
    """The goals whose month or quarter holds `on`."""
    return or_(
        and_(Goal.period == PeriodKind.MONTH.value, Goal.starts_on == period_start("month", on)),
        and_(Goal.period == PeriodKind.QUARTER.value, Goal.starts_on == period_start("quarter", on)),
    )


def list_goals(
    session: Session,
    actor: Actor,
    *,
    on: date | None = None,
    scope_keys: list[str] | None = None,
    page: int = 1,
    per_page: int = 100,
) -> Page[Goal]:
    """Goals, latest period first, then by metric and scope; `on`: only the month's and quarter's goals
    whose period holds that day; `scope_keys`: only those scopes ("workspace", "program:3", …)."""
    require(actor, Permission.READ_METRICS)
    statement = select(Goal).order_by(
        Goal.starts_on.desc(), Goal.period, Goal.metric, Goal.scope_key, Goal.id
    )
    if on is not None:
        statement = statement.where(in_force(on))
    if scope_keys is not None:
        statement = statement.where(Goal.scope_key.in_(scope_keys))
    return paginate(session, statement, page=page, per_page=per_page)


def period_start(kind: str, day: date) -> date:
    """The first day of the month or quarter that holds `day`."""
    if kind == PeriodKind.QUARTER:
        return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return day.replace(day=1)
