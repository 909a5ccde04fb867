"""/api/v1/metrics: the hand-worked figures, the engine's own numbers, records, explanations and errors."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ecoops.actors import SYSTEM, Role
from ecoops.config import Settings
from ecoops.engines.metrics import Period
from ecoops.metrics import service
from ecoops.metrics.export import rows
from tests.factories import bearer, make_user
from tests.metrics.scenario import AS_OF, Q1, seed

PARAMS = {"as_of": "2025-03-31", "from": "2025-01-01", "to": "2025-03-31"}


def test_overview_matches_the_service_and_the_hand_worked_figures(
    session: Session, client: TestClient, settings: Settings
) -> None:
    scenario = seed(session)
    headers = bearer(session, make_user(session, Role.SALES))
    body = client.get("/api/v1/metrics/overview", params=PARAMS, headers=headers).json()
    assert body["as_of"] == "2025-03-31" and body["rules"]["sourcing_grace_days"] == 7
    revenue = {r["classification"]: r for r in body["figures"]["revenue"]}
    assert revenue["sourced"]["revenue"] == 4000.0 and revenue["influenced"]["revenue"] == 2000.0
    expected = service.report(
        session,
        SYSTEM,
        settings,
        service.MetricsQuery(AS_OF, Period(*Q1)),
        service.DASHBOARDS["overview"].figures,
    )
    for name, table in expected.figures.items():
        assert body["figures"][name] == [
            {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()} for r in rows(table)
        ], name
    beta = client.get(
        "/api/v1/metrics/scorecard", params=PARAMS | {"partner": scenario.beta.id}, headers=headers
    ).json()
    assert [r["partner"] for r in beta["figures"]["scorecard"]] == ["Beta Co"]


def test_records_explanation_and_errors(session: Session, client: TestClient) -> None:
    scenario = seed(session)
    headers = bearer(session, make_user(session, Role.SALES))
    records = client.get(
        "/api/v1/metrics/figures/revenue/records", params=PARAMS | {"cohort": "sourced"}, headers=headers
    ).json()["records"]
    assert sorted(r["amount"] for r in records) == [1000.0, 3000.0]
    explained = client.get(
        f"/api/v1/metrics/opportunities/{scenario.deals[2].crm_id}",
        params={"as_of": "2025-03-31"},
        headers=headers,
    ).json()
    assert explained["opportunity"]["classification"] == "influenced"
    assert {(t["kind"], t["verdict"] != "counts") for t in explained["touches"]} == {
        ("co_sell", False),
        ("crm_source", True),  # proposed: shown as a claim, not counted
    }
    assert explained["shares"][0]["linear"] == 1.0 and explained["shares"][0]["sourced"] == 0.0
    missing = client.get(f"/api/v1/metrics/opportunities/{scenario.deals[3].crm_id}", headers=headers)
    assert missing.status_code == 404
    assert client.get("/api/v1/metrics/figures/nope/records", headers=headers).status_code == 404
    backwards = client.get(
        "/api/v1/metrics/overview", params={"from": "2025-03-01", "to": "2025-01-01"}, headers=headers
    )
    assert backwards.status_code == 422
    empty = client.get(
        "/api/v1/metrics/eql-funnel",
        params=PARAMS | {"from": "2024-01-01", "to": "2024-03-31"},
        headers=headers,
    ).json()
    assert empty["figures"]["eql_funnel"] == [
        {
            "eqls": 0,
            "eql_value": None,
            "sqls": 0,
            "sql_opportunities": 0,
            "sql_amount": None,
            "eql_to_sql_conversion": None,
            "won_opportunities": 0,
            "won_amount": None,
        }
    ]


def test_type_and_deal_owner_filters(session: Session, client: TestClient) -> None:
    scenario = seed(session)
    scenario.deals[5].owner = "Olivia"
    session.flush()
    headers = bearer(session, make_user(session, Role.SALES))
    resellers = client.get("/api/v1/metrics/overview", params=PARAMS | {"type": "reseller"}, headers=headers)
    revenue = {r["classification"]: r["revenue"] for r in resellers.json()["figures"]["revenue"]}
    assert revenue == {"sourced": 1000.0, "influenced": None}  # Beta is the only reseller
    olivia = client.get("/api/v1/metrics/overview", params=PARAMS | {"deal_owner": "Olivia"}, headers=headers)
    revenue = {r["classification"]: r["revenue"] for r in olivia.json()["figures"]["revenue"]}
    assert revenue == {"sourced": 3000.0, "influenced": None}  # only deal 5 is Olivia's


def test_partner_manager_filter(session: Session, client: TestClient) -> None:
    scenario = seed(session)
    manager = make_user(session, Role.PARTNER_MANAGER)
    scenario.acme.owner_id = manager.id
    session.flush()
    headers = bearer(session, manager)
    body = client.get(
        "/api/v1/metrics/overview", params=PARAMS | {"owner": manager.id}, headers=headers
    ).json()
    revenue = {r["classification"]: r["revenue"] for r in body["figures"]["revenue"]}
    assert revenue == {"sourced": 3000.0, "influenced": 2000.0}  # Acme's deals 5 and 2
