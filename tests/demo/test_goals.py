"""The demo's goals: this quarter's and month's for the workspace, a program, two partners and two
partner managers, with actuals to show."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ecoops.actors import SYSTEM
from ecoops.config import Settings
from ecoops.demo.goals import MONEY_FLOOR, seed_goals
from ecoops.goals import service
from ecoops.goals.actuals import progress
from tests.demo.conftest import SeededDatabase


def test_demo_goals_cover_every_scope_and_show_progress(
    small_workspace: SeededDatabase, settings: Settings
) -> None:
    today = small_workspace.as_of  # 1 June 2026: Q2 and June
    with small_workspace.engine.connect() as connection:
        outer = connection.begin()
        try:
            session = Session(bind=connection, join_transaction_mode="create_savepoint")
            count = seed_goals(session, SYSTEM, settings, today)
            goals = service.list_goals(session, SYSTEM, on=today).items
            assert len(goals) == count == 15
            assert {g.scope for g in goals} == {"workspace", "program", "partner", "manager"}
            assert {(g.period, g.starts_on.isoformat()) for g in goals} == {
                ("quarter", "2026-04-01"),
                ("month", "2026-06-01"),
            }
            assert all(g.target >= MONEY_FLOOR for g in goals if g.metric.endswith(("revenue", "pipeline")))
            found = progress(session, SYSTEM, settings, goals, today)
            assert all(p.actual is not None for p in found)
            assert any(p.actual for p in found if p.goal.scope == "workspace"), "the workspace shows progress"
            assert (
                seed_goals(session, SYSTEM, settings, today.replace(month=9)) == count
            )  # the next quarter too
        finally:
            outer.rollback()
