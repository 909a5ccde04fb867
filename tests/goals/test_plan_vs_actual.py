"""Plan vs actual on the overview dashboard (its filters choosing the goals) and in the weekly digest."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ecoops.actors import SYSTEM, Role
from ecoops.automation.digest.goals import add_goals
from ecoops.automation.digest.message import render_digest
from ecoops.config import Settings
from ecoops.goals import service
from ecoops.goals.service import GoalInput
from tests.factories import make_user, sign_in
from tests.goals.scenario import World, seed

Q1 = date(2025, 1, 1)


def _goals(session: Session, w: World) -> None:
    for metric, scope, scope_id, target in [
        ("sourced_revenue", "workspace", None, "4000"),
        ("sourced_revenue", "program", w.program.id, "2000"),
        ("referrals", "manager", w.manager.id, "4"),
        ("partner_pipeline", "partner", w.acme.id, "8000"),
        ("influenced_revenue", "partner", w.beta.id, "5000"),
    ]:
        service.create_goal(
            session, SYSTEM, GoalInput(metric, scope, "quarter", Q1, target, scope_id=scope_id)
        )
    # April's goal is not in force on 31 March.
    service.create_goal(
        session, SYSTEM, GoalInput("sourced_revenue", "workspace", "month", date(2025, 4, 1), "9")
    )


def _panel(client: TestClient, **params: object) -> str:
    page = client.get("/dashboards/overview", params={"as_of": "2025-03-31", **params})
    assert page.status_code == 200, page.text
    return page.text.split('id="plan-vs-actual"', 1)[1].split("</section>", 1)[0]


@pytest.mark.all_backends
def test_the_overview_shows_the_goals_its_filters_name(client: TestClient, session: Session) -> None:
    w = seed(session)
    _goals(session, w)
    sign_in(client, make_user(session, Role.VIEWER).email)
    workspace = _panel(client)
    assert "the workspace" in workspace and "1,000" in workspace and "25 % of target" in workspace
    assert (
        "100 % of the period elapsed" in workspace and "missed" not in workspace
    )  # as of 31 March: last day
    assert "program Resellers" not in workspace and "partner Acme" not in workspace
    program = _panel(client, program=w.program.id)
    assert "program Resellers" in program and "50 % of target" in program and "the workspace" not in program
    both = _panel(client, partner=[w.acme.id, w.beta.id], owner=w.manager.id)
    assert "partner Acme" in both and "partner Beta" in both and "Dana Reyes&#39;s partners" in both
    assert "2,000" in both and "4,000" in both  # Acme's pipeline, Beta's influenced revenue
    assert "No goals for these filters" in _panel(client, type="reseller")
    assert "No goals for these filters" in _panel(client, as_of="2024-12-31")


@pytest.mark.all_backends
def test_the_digest_lists_the_readers_goals_with_their_progress(session: Session, settings: Settings) -> None:
    w = seed(session)
    _goals(session, w)
    make_user(session, Role.PARTNER_MANAGER, name="No Goals")  # manages nothing, has no goal: no digest
    digests = add_goals(session, settings, [], date(2025, 3, 31))
    assert [d.user.name for d in digests] == ["Dana Reyes"]
    text = render_digest(
        digests[0], base_url="https://ecoops.example", currency="EUR", week_of=date(2025, 3, 31)
    ).text
    lines = [line for line in text.splitlines() if line.startswith("- ")]
    assert lines == [
        "- Partner pipeline for partner Acme, quarter 2025-01-01 to 2025-03-31: 2,000 of 8,000 EUR (25%), "
        "100% of the period elapsed — behind",
        "- Referrals received for Dana Reyes's partners, quarter 2025-01-01 to 2025-03-31: 1 of 4 (25%), "
        "100% of the period elapsed — behind",
        "- Sourced revenue for the workspace, quarter 2025-01-01 to 2025-03-31: 1,000 of 4,000 EUR (25%), "
        "100% of the period elapsed — behind",
    ]
    assert "All goals: https://ecoops.example/goals" in text
    # In Q2 only the workspace has a goal (April's), which sends no one a digest.
    later = add_goals(session, settings, [], date(2025, 4, 7))
    assert later == []  # no goal in force in Q2 but the workspace's April one: no one's own
