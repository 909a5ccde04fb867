"""Goals through the API and the goals page, on both backends: set, list with actuals, retarget, delete;
two creates of the same goal at the same moment store one and answer no 500."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from ecoops.actors import Role
from ecoops.audit import AuditEvent
from ecoops.config import Settings
from ecoops.goals.models import Goal
from ecoops.web.app import create_app
from tests.at_once import at_once
from tests.factories import bearer, csrf_from, make_user, sign_in
from tests.goals.scenario import seed

Q1_GOAL = {"metric": "sourced_revenue", "scope": "workspace", "period": "quarter", "starts_on": "2025-01-01"}


@pytest.mark.all_backends
def test_the_api_sets_lists_changes_and_deletes_goals(
    client: TestClient, session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = seed(session)
    monkeypatch.setattr(Settings, "today", lambda self: date(2025, 4, 15))
    headers = bearer(session, make_user(session, Role.PARTNER_MANAGER))
    created = client.post("/api/v1/goals", json=Q1_GOAL | {"target": "4000"}, headers=headers)
    assert created.status_code == 201, created.text
    goal = created.json()
    assert (goal["actual"], goal["progress"], goal["status"], goal["ends_on"]) == (
        1000,
        0.25,
        "missed",
        "2025-03-31",
    )
    again = client.post("/api/v1/goals", json=Q1_GOAL | {"target": "1"}, headers=headers)
    assert again.status_code == 400
    assert again.json()["detail"].startswith(
        "metric: there already is a sourced revenue goal for the workspace"
    )
    acme = {"metric": "referrals", "scope": "partner", "scope_id": w.acme.id, "period": "month"}
    client.post("/api/v1/goals", json=acme | {"starts_on": "2025-03-01", "target": "2"}, headers=headers)
    listed = client.get("/api/v1/goals", params={"on": "2025-03-31"}, headers=headers).json()
    assert [(g["metric"], g["scope_name"], g["actual"]) for g in listed["items"]] == [
        ("referrals", "partner Acme", 1),
        ("sourced_revenue", "the workspace", 1000),
    ]
    assert listed["total"] == 2
    assert client.get("/api/v1/goals", params={"on": "2025-04-01"}, headers=headers).json()["total"] == 0
    patched = client.patch(f"/api/v1/goals/{goal['id']}", json={"target": "1000"}, headers=headers)
    assert (patched.status_code, patched.json()["status"], patched.json()["target"]) == (
        200,
        "met",
        "1000.00",
    )
    moved = client.patch(
        f"/api/v1/goals/{goal['id']}", json={"scope": "program", "scope_id": w.program.id}, headers=headers
    )
    assert (moved.json()["scope_name"], moved.json()["actual"]) == ("program Resellers", 1000)
    unnamed = client.patch(f"/api/v1/goals/{goal['id']}", json={"scope": "partner"}, headers=headers)
    assert (
        unnamed.status_code == 400
        and unnamed.json()["detail"] == "scope_id: name the partner the goal is for"
    )
    wrong = client.patch(f"/api/v1/goals/{goal['id']}", json={"starts_on": "2025-02-01"}, headers=headers)
    assert wrong.status_code == 400 and wrong.json()["detail"].startswith("starts_on:")
    assert client.delete(f"/api/v1/goals/{goal['id']}", headers=headers).status_code == 204
    assert client.delete(f"/api/v1/goals/{goal['id']}", headers=headers).status_code == 404
    negative = client.post("/api/v1/goals", json=Q1_GOAL | {"target": "-1"}, headers=headers)
    assert negative.status_code == 422 and negative.json()["detail"][0]["loc"] == ["body", "target"]
    viewer = bearer(session, make_user(session, Role.SALES))
    assert client.post("/api/v1/goals", json=Q1_GOAL | {"target": "9"}, headers=viewer).status_code == 403
    assert client.get("/api/v1/goals", headers=viewer).status_code == 200


@pytest.mark.all_backends
def test_the_goals_page_sets_retargets_and_deletes(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(session)
    monkeypatch.setattr(Settings, "today", lambda self: date(2025, 3, 16))
    user = make_user(session, Role.PARTNER_MANAGER)
    session.flush()
    sign_in(client, user.email)
    page = client.get("/goals")
    assert page.status_code == 200 and "No goals for the month or quarter holding 2025-03-16" in page.text
    assert 'name="starts_on" value="2025-01-01"' in page.text  # the current quarter by default
    token = csrf_from(page.text)
    form = {"csrf_token": token, "metric": "influenced_revenue", "scope": "workspace", "period": "quarter"}
    done = client.post("/goals", data=form | {"starts_on": "2025-01-01", "target": "8000"})
    assert (done.status_code, done.headers["location"]) == (303, "/goals?on=2025-01-01")
    shown = client.get("/goals").text
    assert "Goal set: influenced revenue, quarter from 2025-01-01 for the workspace." in shown
    assert (
        "4,000" in shown and "50 % of target" in shown and "83 % of the period elapsed" in shown
    )  # 75/90 days
    assert "on pace" not in shown and "behind" in shown
    twice = client.post("/goals", data=form | {"starts_on": "2025-01-01", "target": "1"})
    assert "Nothing was changed: metric: there already is" in client.get(twice.headers["location"]).text
    bad = client.post("/goals", data=form | {"starts_on": "2025-01-01", "target": "0", "metric": "referrals"})
    assert "target: must be greater than 0" in client.get(bad.headers["location"]).text
    goal = session.scalars(select(Goal)).one()
    client.post(f"/goals/{goal.id}", data={"csrf_token": token, "target": "4000"})
    assert "now targets 4,000" in client.get("/goals").text
    session.refresh(goal)
    assert goal.target == 4000
    client.post(f"/goals/{goal.id}/delete", data={"csrf_token": token})
    assert session.scalar(select(func.count()).select_from(Goal)) == 0


@pytest.mark.all_backends
def test_two_creates_at_once_store_one_goal(committed_engine: Engine, tmp_path: Path) -> None:
    engine = committed_engine
    settings = Settings(env="test", var_dir=tmp_path / "var", secret_key="g" * 40)
    with Session(engine) as session:
        headers = [bearer(session, make_user(session, Role.PARTNER_MANAGER)) for _ in range(2)]
        session.commit()
    app = create_app(settings, engine)
    try:
        for n, period in enumerate(["2025-01-01", "2025-04-01", "2025-07-01", "2025-10-01"]):
            body = Q1_GOAL | {"starts_on": period, "target": str(1000 + n)}

            def create(h: dict[str, str], body: dict[str, str] = body) -> int:
                return TestClient(app).post("/api/v1/goals", json=body, headers=h).status_code

            assert sorted(at_once(*(lambda h=h: create(h) for h in headers))) == [201, 400]
        with Session(engine) as session:
            assert session.scalar(select(func.count()).select_from(Goal)) == 4
            created = select(func.count()).where(AuditEvent.action == "goal.created")
            assert session.scalar(created) == 4
    finally:
        engine.dispose()
