"""Goal actuals against the hand-worked figures of tests/goals/scenario.py, on both backends."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from ecoops.actors import SYSTEM
from ecoops.config import Settings
from ecoops.goals import service
from ecoops.goals.actuals import Progress, progress
from ecoops.goals.models import Goal
from ecoops.goals.service import GoalInput
from tests.goals.scenario import seed

AFTER = date(2025, 4, 15)  # March and Q1 are over: their actuals stand as of 31 March
MARCH, Q1, APRIL = ("month", date(2025, 3, 1)), ("quarter", date(2025, 1, 1)), ("month", date(2025, 4, 1))


def _goal(
    session: Session,
    metric: str,
    scope: str,
    period: tuple[str, date],
    scope_id: int | None = None,
    stage: str = "",
) -> Goal:
    data = GoalInput(metric, scope, period[0], period[1], "1000", scope_id=scope_id, stage=stage)
    return service.create_goal(session, SYSTEM, data)


def _actuals(
    session: Session, settings: Settings, goals: list[Goal], today: date = AFTER
) -> list[float | None]:
    return [p.actual for p in progress(session, SYSTEM, settings, goals, today)]


@pytest.mark.all_backends
def test_revenue_by_scope_and_the_last_day_of_the_period(session: Session, settings: Settings) -> None:
    w = seed(session)
    goals = [
        _goal(session, "sourced_revenue", "workspace", MARCH),
        _goal(session, "sourced_revenue", "workspace", Q1),
        _goal(session, "sourced_revenue", "program", Q1, w.program.id),
        _goal(session, "sourced_revenue", "partner", Q1, w.acme.id),
        _goal(session, "sourced_revenue", "manager", Q1, w.manager.id),
        _goal(session, "sourced_revenue", "partner", Q1, w.beta.id),
        _goal(session, "sourced_revenue", "workspace", APRIL),  # deal B, won on 1 April
        _goal(session, "influenced_revenue", "workspace", Q1),
        _goal(session, "influenced_revenue", "partner", MARCH, w.beta.id),
        _goal(session, "influenced_revenue", "program", MARCH, w.program.id),
    ]
    assert _actuals(session, settings, goals) == [1000, 1000, 1000, 1000, 1000, 0, 2000, 4000, 4000, 0]


@pytest.mark.all_backends
def test_pipeline_referrals_and_partners_in_stage(session: Session, settings: Settings) -> None:
    w = seed(session)
    goals = [
        _goal(session, "partner_pipeline", "workspace", Q1),
        _goal(session, "partner_pipeline", "partner", Q1, w.acme.id),
        _goal(session, "partner_pipeline", "partner", MARCH, w.beta.id),
        _goal(session, "referrals", "workspace", MARCH),
        _goal(session, "referrals", "manager", Q1, w.manager.id),
        _goal(session, "referrals", "partner", Q1, w.beta.id),
        _goal(session, "partners_in_stage", "workspace", Q1, stage="active"),
        _goal(session, "partners_in_stage", "program", Q1, w.program.id, stage="active"),
        _goal(session, "partners_in_stage", "workspace", MARCH, stage="prospect"),
    ]
    assert _actuals(session, settings, goals) == [2500, 2000, 500, 1, 1, 0, 2, 1, 1]


def test_a_running_period_stands_as_of_today_and_a_future_one_has_no_actual(
    session: Session, settings: Settings
) -> None:
    seed(session)
    q1 = _goal(session, "sourced_revenue", "workspace", Q1)
    april = _goal(session, "sourced_revenue", "workspace", APRIL)
    # On 30 March deal A (won 31 March) is not won yet; April has not begun.
    running, future = progress(session, SYSTEM, settings, [q1, april], date(2025, 3, 30))
    assert (running.actual, running.as_of, future.actual, future.status) == (
        0,
        date(2025, 3, 30),
        None,
        "not started",
    )
    assert running.elapsed == pytest.approx(89 / 90)  # 1 Jan … 30 Mar of the 90 days of Q1 2025
    on_last_day = progress(session, SYSTEM, settings, [q1], date(2025, 3, 31))[0]
    assert (on_last_day.actual, on_last_day.status) == (1000, "met")


def _status(actual: float, target: str, as_of: date, metric: str = "sourced_revenue") -> str:
    goal = Goal(metric=metric, stage="", period="month", starts_on=date(2025, 3, 1), target=target)
    elapsed = (as_of - date(2025, 3, 1)).days + 1
    return Progress(goal, actual, as_of, min(elapsed, 31) / 31, over=as_of > date(2025, 3, 31)).status


def test_pace_compares_progress_with_the_period_elapsed() -> None:
    # 10 of 31 days gone: 10/31 of the target (about 32 %) is on pace.
    assert _status(330, "1000", date(2025, 3, 10)) == "on pace"
    assert _status(320, "1000", date(2025, 3, 10)) == "behind"
    assert _status(1000, "1000", date(2025, 3, 10)) == "met"
    assert _status(999, "1000", date(2025, 3, 31)) == "behind"  # the last day is not over yet
    assert _status(999, "1000", date(2025, 4, 1)) == "missed"
    # A level (pipeline) is measured against the whole target whatever the day.
    assert _status(900, "1000", date(2025, 3, 2), "partner_pipeline") == "behind"
