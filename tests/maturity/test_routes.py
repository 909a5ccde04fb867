"""The roadmap API and the maturity, integration and roadmap pages, on both backends: every KPI a task
names shows the dashboards' own figure (hand-worked for the scenario of tests/goals as of 31 March
2025); seeding from the template, twice at once too; the board, timeline and CSV export; who may write."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecoops.actors import SYSTEM, Role
from ecoops.config import Settings
from ecoops.db import make_engine, migrate, session_factory, transaction
from ecoops.maturity import roadmap
from ecoops.maturity.integrations import IntegrationInput, create_integration
from ecoops.maturity.kpis import KPIS, UTILISATION
from ecoops.maturity.models import Integration, IntegrationAccount, MaturityAssessment, RoadmapTask
from ecoops.web.app import create_app
from tests.at_once import at_once
from tests.conftest import fresh_postgres_database
from tests.enablement import scenario as enablement
from tests.factories import (
    bearer,
    csrf_from,
    make_account,
    make_partner,
    make_partner_user,
    make_user,
    sign_in,
)
from tests.goals.scenario import seed

MARCH_31 = date(2025, 3, 31)
TASK = {
    "title": "Connect mapping to the CRM",
    "stage": "prove",
    "element": "data_sharing",
    "ops_group": "sales_ops",
    "due_on": "2025-06-30",
    "kpi": "sourced_revenue",
    "target": "2000",
    "outcome": "Attribution that SalesOps trusts.",
}
# The dashboard (API route under /api/v1/metrics) showing each figure a KPI reads.
DASHBOARD_OF = {
    "pipeline": "overview",
    "revenue": "overview",
    "overlays": "overview",
    "give_and_get": "life-cycle",
    "partners_per_stage": "life-cycle",
    "eql_pre_pipeline": "eql-funnel",
    "eql_funnel": "eql-funnel",
}
BY_HAND = {
    "sourced_revenue": 1000.0,
    "influenced_revenue": 4000.0,
    "sourced_pipeline": 2500.0,  # B 2,000 and D 500, open on 31 March
    "partner_pipeline": 2500.0,
    "referrals_received": 1.0,
    "partners_engaged": 2.0,  # Acme and Beta, active
    "influenced_won": 1.0,
}


@pytest.fixture
def today(monkeypatch: pytest.MonkeyPatch) -> date:
    monkeypatch.setattr(Settings, "today", lambda self: MARCH_31)
    return MARCH_31


@pytest.mark.all_backends
def test_each_task_metric_equals_the_dashboard_figure_it_names(
    client: TestClient, session: Session, today: date
) -> None:
    w = seed(session)
    headers = bearer(session, w.manager)
    dashboards: dict[str, Any] = {
        name: client.get(f"/api/v1/metrics/{name}", headers=headers).json()["figures"]
        for name in set(DASHBOARD_OF.values())
    }
    for key, kpi in KPIS.items():
        body = TASK | {"owner_id": w.manager.id, "kpi": key}
        created = client.post("/api/v1/roadmap/tasks", json=body, headers=headers)
        assert created.status_code == 201, created.text
        if key == UTILISATION:  # the library's figure, not a dashboard's: the test after this one
            continue
        shown = kpi.read({figure: dashboards[DASHBOARD_OF[figure]][figure] for figure in kpi.figures})
        assert created.json()["current_value"] == pytest.approx(shown), key
        if key in BY_HAND:
            assert created.json()["current_value"] == BY_HAND[key], key
    revenue = dashboards["overview"]["revenue"]
    assert [r["revenue"] for r in revenue if r["classification"] == "sourced"] == [1000]
    listed = client.get("/api/v1/roadmap/tasks", params={"per_page": 100}, headers=headers).json()
    assert listed["total"] == len(KPIS)
    assert {t["kpi"]: t["current_value"] for t in listed["items"]}["attach_rate"] == pytest.approx(
        2500 / 2800
    )


@pytest.mark.all_backends
def test_the_content_task_metric_equals_the_librarys_utilisation_figure(
    client: TestClient, session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Alpha's referrals of 1 March, 31 March and 1 April are in the 90 days up to 2 April; a seller opens
    content from the first, a partner manager from the second (not counted): 1 of 3. The seller then
    opens content from the third: 2 of 3. The task, the roadmap page and the library's API agree."""
    monkeypatch.setattr(Settings, "today", lambda self: date(2025, 4, 2))
    w = enablement.seed(session, settings)
    headers = bearer(session, w.manager)
    body = TASK | {"owner_id": w.manager.id, "kpi": UTILISATION, "target": "0.8"}
    created = client.post("/api/v1/roadmap/tasks", json=body, headers=headers)
    assert (created.status_code, created.json()["current_value"]) == (201, 0.0), created.text

    def figures() -> tuple[float, float, str]:
        task = client.get("/api/v1/roadmap/tasks", headers=headers).json()["items"][0]["current_value"]
        library = client.get("/api/v1/enablement/utilisation", headers=headers).json()["share"]
        client.cookies.clear()
        sign_in(client, w.manager.email)
        return task, library, client.get("/roadmap", params={"stage": "prove"}).text

    for who, referral in [(w.seller, 0), (w.manager, 1)]:
        client.cookies.clear()
        sign_in(client, who.email)
        opened = client.get(f"/content/{w.for_all.id}/open", params={"referral": w.referrals[referral].id})
        assert opened.status_code == 200
    task, library, board = figures()
    assert task == pytest.approx(1 / 3) and library == round(1 / 3, 4)  # the API gives 4 places
    assert '<strong class="kpi-value">33.3%</strong> → target 80.0%' in board
    assert 'href="/enablement?from=2025-01-03&amp;to=2025-04-02#utilisation"' in board
    client.cookies.clear()
    sign_in(client, w.seller.email)
    client.get(f"/content/{w.alpha_file.id}/open", params={"referral": w.referrals[2].id})
    task, library, _board = figures()
    assert task == pytest.approx(2 / 3) and library == round(2 / 3, 4)


@pytest.mark.all_backends
def test_the_api_creates_filters_changes_and_deletes_tasks(
    client: TestClient, session: Session, today: date
) -> None:
    w = seed(session)
    headers = bearer(session, w.manager)
    created = client.post("/api/v1/roadmap/tasks", json=TASK | {"owner_id": w.manager.id}, headers=headers)
    task = created.json()
    assert (task["owner"], task["current_value"], task["target"], task["as_of"]) == (
        "Dana Reyes",
        1000,
        "2000.0000",
        "2025-03-31",
    )
    wrong = client.post(
        "/api/v1/roadmap/tasks", json=TASK | {"owner_id": w.manager.id, "kpi": "vibes"}, headers=headers
    )
    assert wrong.status_code == 400 and wrong.json()["detail"].startswith(
        "kpi: must be one of sourced_pipeline"
    )
    nobody = client.post("/api/v1/roadmap/tasks", json=TASK | {"owner_id": 999_999}, headers=headers)
    assert (nobody.status_code, nobody.json()["detail"]) == (400, "owner_id: no active user 999999")
    unplaced = client.post(
        "/api/v1/roadmap/tasks", json=TASK | {"owner_id": w.manager.id, "element": "x"}, headers=headers
    )
    assert unplaced.status_code == 422 and unplaced.json()["detail"][0]["loc"] == ["body", "element"]
    moved = client.patch(
        f"/api/v1/roadmap/tasks/{task['id']}", json={"status": "in_progress", "target": None}, headers=headers
    )
    assert (moved.json()["status"], moved.json()["target"], moved.json()["title"]) == (
        "in_progress",
        None,
        TASK["title"],
    )
    assert (
        client.get("/api/v1/roadmap/tasks", params={"ops_group": "cs_ops"}, headers=headers).json()["total"]
        == 0
    )
    assert (
        client.get("/api/v1/roadmap/tasks", params={"status": "in_progress"}, headers=headers).json()["total"]
        == 1
    )
    seller = bearer(session, make_user(session, Role.SALES))
    assert client.get("/api/v1/roadmap/tasks", headers=seller).status_code == 200
    assert (
        client.post(
            "/api/v1/roadmap/tasks", json=TASK | {"owner_id": w.manager.id}, headers=seller
        ).status_code
        == 403
    )
    assert client.delete(f"/api/v1/roadmap/tasks/{task['id']}", headers=headers).status_code == 204
    assert client.delete(f"/api/v1/roadmap/tasks/{task['id']}", headers=headers).status_code == 404


@pytest.mark.all_backends
def test_the_pages_seed_the_roadmap_show_board_timeline_and_export(
    client: TestClient, session: Session, today: date
) -> None:
    w = seed(session)
    sign_in(client, w.manager.email)
    page = client.get("/maturity")
    assert page.status_code == 200 and "EcoOps maturity: <span" in page.text
    assert "Launch</span>" in page.text and "No assessment kept yet." in page.text
    token = csrf_from(page.text)
    seeded = client.post("/roadmap/seed", data={"csrf_token": token, "stage": "prove"})
    assert (seeded.status_code, seeded.headers["location"]) == (303, "/roadmap?stage=prove")
    board = client.get(seeded.headers["location"]).text
    assert "6 template task(s) added to the Prove roadmap." in board
    tasks = session.scalars(select(RoadmapTask).order_by(RoadmapTask.due_on)).all()
    assert [(t.template_key, t.due_on, t.owner_id) for t in tasks][:2] == [
        ("nurture", date(2025, 4, 30), w.manager.id),
        ("populations", date(2025, 5, 31), w.manager.id),
    ]
    assert tasks[-1].template_key == "playbooks" and tasks[-1].target == 1200  # sourced revenue 1,000 x 1.2
    assert tasks[0].target == 3  # partners engaged: 2 x 1.2, rounded up
    assert (
        'data-cell="automation_tooling/partner_ops"' in board
        and "Partner nurture across the life cycle" in board
    )
    again = client.post("/roadmap/seed", data={"csrf_token": token, "stage": "prove"})
    assert "already holds every template task" in client.get(again.headers["location"]).text
    timeline = client.get("/roadmap", params={"view": "timeline", "stage": "prove"}).text
    assert "April 2025 (1)" in timeline and "September 2025 (1)" in timeline
    exported = client.get("/roadmap/export.csv", params={"ops_group": "sales_ops"})
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(r["title"][:30], r["ops_group"], r["current_value"], r["target"]) for r in rows] == [
        ("Cross-channel orchestration: o", "SalesOps", "2", "3"),  # EQLs: Acme's of 31 Mar, ours to Beta
        ("Connect mapping data and proce", "SalesOps", "0", "0.05"),  # EQL → SQL conversion: 0 of the 2
    ]
    client.post("/maturity/answers", data={"csrf_token": token, "q_integration_owners": "yes"})
    client.post("/maturity/assess", data={"csrf_token": token})
    assert session.scalar(select(func.count()).select_from(MaturityAssessment)) == 1
    # Met: the question, the sourced and influenced shares (0.2, 0.8) and the attach rate (2,500 / 2,800).
    assert '<td>Launch</td><td class="num">4 of 10</td>' in client.get("/maturity").text
    bad_task = client.post("/roadmap/tasks", data={"csrf_token": token, "title": "", "stage": "prove"})
    assert "Nothing was changed: title:" in client.get(bad_task.headers["location"]).text


@pytest.mark.all_backends
def test_the_integration_pages_register_date_and_import(
    client: TestClient, session: Session, today: date
) -> None:
    partner = make_partner(session, name="Gadget Labs")
    make_account(session, crm_id="001X", name="Xeno")
    admin = make_user(session, Role.ADMIN)
    sign_in(client, admin.email)
    token = csrf_from(client.get("/integrations").text)
    form = {
        "csrf_token": token,
        "partner_id": str(partner.id),
        "name": "Sync",
        "status": "building",
        "changed_on": "2025-03-01",
    }
    assert client.post("/integrations", data=form).status_code == 303
    found = session.scalars(select(Integration)).one()
    client.post(
        f"/integrations/{found.id}",
        data={"csrf_token": token, "name": "Sync", "status": "validated", "changed_on": "2025-03-31"},
    )
    client.post(f"/integrations/{found.id}/accounts", data={"csrf_token": token, "accounts": "001X"})
    shown = client.get(f"/integrations/{found.id}").text
    assert "2025-03-31: building → <strong>validated</strong>" in shown and "Xeno" in shown
    upload = b"partner,integration,account_id\nGadget Labs,Sync,001Y\n"
    bad = client.post(
        "/integrations/import", data={"csrf_token": token}, files={"file": ("a.csv", upload, "text/csv")}
    )
    assert "row 2, account_id: no account with CRM id 001Y" in client.get(bad.headers["location"]).text
    assert session.scalar(select(func.count()).select_from(IntegrationAccount)) == 1
    listed = client.get("/integrations", params={"status": "validated"}).text
    assert "Sync" in listed and "Gadget Labs" in listed
    assert (
        "No integrations match these filters" in client.get("/integrations", params={"status": "live"}).text
    )


@pytest.mark.all_backends
def test_partner_users_see_no_maturity_roadmap_or_registry(client: TestClient, session: Session) -> None:
    own = make_partner(session, name="Own")
    user = make_partner_user(session, own)
    sign_in(client, user.email)
    for path in ("/maturity", "/roadmap", "/integrations", "/roadmap/export.csv"):
        assert client.get(path).status_code == 403, path


@pytest.mark.all_backends
def test_two_seeds_at_once_store_each_template_task_once(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, today: date
) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'roadmap.db'}"
    else:
        url = fresh_postgres_database(request.getfixturevalue("postgres_admin_url"))
    engine = make_engine(url)
    migrate(engine)
    settings = Settings(env="test", var_dir=tmp_path / "var", secret_key="r" * 40)
    with Session(engine) as session:
        headers = [bearer(session, make_user(session, Role.PARTNER_MANAGER)) for _ in range(2)]
        owner = make_user(session, Role.PARTNER_MANAGER).id
        session.commit()
    app = create_app(settings, engine)
    body = TASK | {"owner_id": owner}
    try:

        def create(h: dict[str, str]) -> int:
            return TestClient(app).post("/api/v1/roadmap/tasks", json=body, headers=h).status_code

        assert at_once(*(lambda h=h: create(h) for h in headers)) == [201, 201]  # manual tasks may repeat

        def seed_stage() -> int:
            with transaction(session_factory(engine)) as session:
                return len(roadmap.seed_from_template(session, SYSTEM, settings, "scale", owner, MARCH_31))

        assert sorted(at_once(seed_stage, seed_stage)) == [0, 6]
        with Session(engine) as session:
            keys = session.scalars(select(RoadmapTask.template_key).where(RoadmapTask.stage == "scale")).all()
            assert sorted(keys) == sorted(
                ["nurture", "populations", "orchestration", "crm", "content", "playbooks"]
            )
    finally:
        engine.dispose()


@pytest.mark.all_backends
def test_a_partner_user_sees_its_own_partners_integrations_only(
    client: TestClient, session: Session, today: date
) -> None:
    own, other = make_partner(session, name="Own"), make_partner(session, name="Other")
    for partner, name in ((own, "Own Sync"), (other, "Other Sync")):
        data = IntegrationInput(partner.id, name, "listed", None, "https://apps.example/x", date(2025, 3, 1))
        create_integration(session, SYSTEM, data, today)
    sign_in(client, make_partner_user(session, own).email)
    shown = client.get("/portal/integrations")
    assert shown.status_code == 200
    assert "Own Sync" in shown.text and "2025-03-01" in shown.text and "Other Sync" not in shown.text
    assert client.get("/integrations").status_code == 403
