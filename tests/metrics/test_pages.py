"""Dashboard pages: figures as the service computes them, "no data", drill-down, explanation, CSV export."""

from __future__ import annotations

import csv
import io
import json
import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ecoops.actors import Role
from tests.factories import make_partner, make_user, sign_in
from tests.metrics.scenario import seed

QS = "as_of=2025-03-31&from=2025-01-01&to=2025-03-31"


def _signed_in(session: Session, client: TestClient, role: Role = Role.VIEWER) -> None:
    user = make_user(session, role)
    session.flush()
    sign_in(client, user.email)


def _chart_data(html: str) -> list[dict[str, object]]:
    match = re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', html, re.S)
    assert match, "no chart data block"
    data: list[dict[str, object]] = json.loads(match.group(1))
    return data


def test_overview_shows_hand_worked_figures_charts_and_no_data(session: Session, client: TestClient) -> None:
    seed(session)
    _signed_in(session, client)
    page = client.get(f"/dashboards/overview?{QS}")
    assert page.status_code == 200, page.text
    charts = {c["id"]: c for c in _chart_data(page.text)}
    assert charts["revenue_by_month"]["labels"] == ["2025-01", "2025-02", "2025-03"]
    assert charts["revenue_by_month"]["datasets"][0]["data"] == [None, 1000.0, 3000.0]  # type: ignore[index]
    assert charts["pipeline"]["datasets"][0]["data"] == [None, None, 500.0]  # type: ignore[index]
    assert "4,000.00" in page.text and "no data" in page.text
    assert '<script src="/static/charts.js"' in page.text and "<script>" not in page.text
    assert '<a href="/dashboards">Dashboards</a>' in page.text


def _figures(html: str) -> list[str]:
    return re.findall(r'<section class="figure" id="figure-(\w+)">', html)


def test_the_overview_front_shows_charts_and_short_tables_and_each_long_table_has_a_tab(
    session: Session, client: TestClient
) -> None:
    seed(session)
    _signed_in(session, client)
    front = client.get(f"/dashboards/overview?{QS}").text
    assert _figures(front) == ["revenue", "pipeline", "overlays", "classification"]
    assert {c["id"] for c in _chart_data(front)} >= {"revenue_by_month", "pipeline"}  # charted, table behind
    qs = QS.replace("&", "&amp;")
    for figure in ("revenue_by_month", "days_in_stage", "attribution"):
        assert f'href="/dashboards/overview?{qs}&amp;table={figure}"' in front
        tab = client.get(f"/dashboards/overview?{QS}&table={figure}").text
        assert _figures(tab) == [figure] and 'id="chart-data"' not in tab
        assert f'href="/dashboards/figures/{figure}/records?{qs}"' in tab  # records and CSV kept
        assert f'href="/dashboards/figures/{figure}.csv?{qs}"' in tab
        assert f'<input type="hidden" name="table" value="{figure}">' in tab  # Apply stays on the tab
        assert f'href="/dashboards/scorecard?{qs}"' in tab  # other dashboards get the filters, not the tab
    assert client.get(f"/dashboards/overview?{QS}&table=scorecard").status_code == 404
    assert client.get(f"/dashboards/overview?{QS}&table=").text.count('class="figure"') == 4


def test_every_dashboard_renders_and_an_empty_one_says_no_data(session: Session, client: TestClient) -> None:
    seed(session)
    _signed_in(session, client)
    for name in ("scorecard", "life-cycle", "eql-funnel", "forecast"):
        page = client.get(f"/dashboards/{name}?{QS}")
        assert page.status_code == 200, (name, page.text)
    forecast = client.get(f"/dashboards/forecast?{QS}").text
    assert "<strong>Forecast</strong>, not a result" in forecast
    assert '<div class="empty">no data</div>' in forecast  # no overlaps stored
    assert client.get("/dashboards/nonsense").status_code == 404


def test_drill_down_from_a_figure_to_its_records_and_an_explanation(
    session: Session, client: TestClient
) -> None:
    scenario = seed(session)
    _signed_in(session, client)
    overview = client.get(f"/dashboards/overview?{QS}").text
    link = re.search(r'href="(/dashboards/figures/revenue/records\?[^"]*cohort=influenced)"', overview)
    assert link, "no drill-down link for influenced revenue"
    records = client.get(link.group(1).replace("&amp;", "&")).text
    deal = scenario.deals[2].crm_id
    assert f'href="/dashboards/opportunities/{deal}?as_of=2025-03-31"' in records
    assert scenario.deals[1].crm_id not in records
    explained = client.get(f"/dashboards/opportunities/{deal}?as_of=2025-03-31").text
    assert "influenced" in explained and "co-sell" in explained and "CRM partner field" in explained
    assert "proposed" in explained and "100.0 %" in explained  # Acme's linear share


def test_csv_of_a_table_and_of_records_neutralises_formulas(session: Session, client: TestClient) -> None:
    seed(session)
    make_partner(session, name='=HYPERLINK("x")', stage="active")
    _signed_in(session, client)
    scorecard = client.get(f"/dashboards/figures/scorecard.csv?{QS}")
    assert scorecard.headers["content-type"].startswith("text/csv")
    cards = {r["partner"]: r for r in csv.DictReader(io.StringIO(scorecard.text))}
    assert cards["Acme Partners"]["linear_revenue"] == "5000.0"
    assert '\'=HYPERLINK("x")' in cards
    records = client.get(f"/dashboards/figures/revenue/records.csv?{QS}&cohort=sourced")
    assert sorted(float(r["amount"]) for r in csv.DictReader(io.StringIO(records.text))) == [1000.0, 3000.0]


def test_a_long_figure_table_is_shown_a_page_at_a_time_and_the_pages_hold_every_row(
    session: Session, client: TestClient, settings
) -> None:
    # A scorecard of a thousand partners was rendered whole on every visit: most of a request's time.
    settings.page_size = 2
    seed(session)
    for n in range(3):
        make_partner(session, name=f"Extra Partner {n}")
    _signed_in(session, client)
    every = [
        r["partner"]
        for r in csv.DictReader(io.StringIO(client.get(f"/dashboards/figures/scorecard.csv?{QS}").text))
    ]
    assert len(every) > 2 * settings.page_size

    pages = -(-len(every) // settings.page_size)
    bodies = []
    for number in range(1, pages + 1):
        html = client.get(f"/dashboards/scorecard?{QS}&page={number}").text
        body = html.split('id="figure-scorecard"', 1)[1].split("</table>", 1)[0]
        assert body.count("<tr><td") <= settings.page_size
        assert f"page {number} of {pages}" in html
        bodies.append(body)
    assert sorted(every) == sorted(name for name in every for body in bodies if f">{name}<" in body)
    assert "Next" not in html  # the last page
    assert "page=2" in client.get(f"/dashboards/scorecard?{QS}").text  # the pager's next page
    tabs = (
        client.get(f"/dashboards/scorecard?{QS}&page=2")
        .text.split('class="tabs"', 1)[1]
        .split("</nav>", 1)[0]
    )
    assert (
        "/dashboards/overview?" in tabs and "page=" not in tabs
    )  # another dashboard starts on its first page


def test_every_dashboard_of_an_empty_workspace_answers_with_no_data(
    session: Session, client: TestClient
) -> None:
    # A new workspace's first visit: the scorecard of no partners is a table without columns.
    _signed_in(session, client)
    for name in ("overview", "scorecard", "life-cycle", "eql-funnel", "forecast"):
        page = client.get(f"/dashboards/{name}")
        assert page.status_code == 200, (name, page.text[-500:])
        assert "no data" in page.text
