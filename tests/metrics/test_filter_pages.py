"""Dashboard filters as a person uses them: Apply with the "all" options left in place, a new as-of date
typed into the form, and a figure's records a page at a time."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ecoops.actors import Role
from ecoops.config import Settings
from ecoops.metrics.service import DASHBOARDS
from tests.factories import make_user, sign_in
from tests.metrics.scenario import seed
from tests.web.page_forms import GetForm, get_forms

QS = "as_of=2025-03-31&from=2025-01-01&to=2025-03-31"
PAGE_SIZE = 2


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(env="test", var_dir=tmp_path / "var", secret_key="t" * 40, page_size=PAGE_SIZE)


@pytest.fixture
def viewer(session: Session, client: TestClient) -> TestClient:
    seed(session)
    user = make_user(session, Role.VIEWER)
    session.flush()
    sign_in(client, user.email)
    return client


def _filter_form(client: TestClient, url: str) -> GetForm:
    page = client.get(url)
    assert page.status_code == 200, page.text
    [form] = [f for f in get_forms(f"http://testserver{url}", page.text) if "/dashboards/" in f.action]
    return form


def _stated_as_of(html: str) -> str:
    found = re.search(r"As of <strong>([\d-]+)</strong>; period ([\d-]+) to ([\d-]+)", html)
    assert found, "the page does not state its as-of date and period"
    return " ".join(found.groups())


@pytest.mark.parametrize("name", list(DASHBOARDS))
def test_apply_with_the_filters_left_as_they_are_shows_the_dashboard(name: str, viewer: TestClient) -> None:
    form = _filter_form(viewer, f"/dashboards/{name}?{QS}")
    assert ("partner", "") in form.fields and ("program", "") in form.fields  # the "all" options
    page = viewer.get(form.url())
    assert page.status_code == 200, page.text
    assert _stated_as_of(page.text) == "2025-03-31 2025-01-01 2025-03-31"


def test_the_urls_a_browser_sent_before_answer_the_dashboard(viewer: TestClient) -> None:
    blanks = "partner=&program=&tier=&type=&owner=&deal_owner="
    for name, extra in [("overview", ""), ("life-cycle", "&target=1000000.0")]:
        page = viewer.get(f"/dashboards/{name}?{QS}&{blanks}{extra}")
        assert page.status_code == 200, (name, page.text)
    emptied = viewer.get(f"/dashboards/scorecard?as_of=&from=&to=&{blanks}")  # every field cleared
    assert emptied.status_code == 200 and Settings().today().isoformat() in _stated_as_of(emptied.text)


def test_an_as_of_date_typed_into_the_form_moves_the_figures_and_their_period(viewer: TestClient) -> None:
    form = _filter_form(viewer, "/dashboards/overview")
    today = Settings().today().isoformat()
    assert ("as_of", today) in form.fields  # defaults to today
    assert ("from", "") in form.fields and ("to", "") in form.fields  # the period follows the as-of date

    assert "4,000.00" not in viewer.get(form.url()).text  # nothing was won in the year up to today

    page = viewer.get(form.url(as_of="2025-03-31"))
    assert page.status_code == 200, page.text
    assert _stated_as_of(page.text) == "2025-03-31 2024-04-01 2025-03-31"
    assert "4,000.00" in page.text  # the two deals partners sourced in Q1 2025
    assert 'href="/dashboards/figures/revenue/records?as_of=2025-03-31' in page.text


def _record_ids(html: str) -> list[str]:
    return re.findall(r'href="/dashboards/opportunities/([^"?]+)\?', html)


def test_a_figures_records_come_a_page_at_a_time_keeping_the_filters(viewer: TestClient) -> None:
    first = viewer.get(f"/dashboards/figures/classification/records?{QS}&partner=&program=")
    assert first.status_code == 200, first.text
    assert "The 4 records behind the figure" in first.text and "page 1 of 2" in first.text
    assert len(_record_ids(first.text)) == PAGE_SIZE
    assert f'href="/dashboards/figures/classification/records.csv?{QS.replace("&", "&amp;")}"' in first.text

    following = re.search(r'<a href="([^"]+)">Next →</a>', first.text)
    assert following, "no link to the next page"
    next_url = following.group(1).replace("&amp;", "&")
    assert next_url == f"/dashboards/figures/classification/records?{QS}&page=2"
    second = viewer.get(next_url)
    assert "page 2 of 2" in second.text and "Next →" not in second.text and "← Previous" in second.text
    assert len(_record_ids(second.text)) == PAGE_SIZE
    assert not set(_record_ids(first.text)) & set(_record_ids(second.text))

    past_the_end = viewer.get(f"/dashboards/figures/classification/records?{QS}&page=3")
    assert past_the_end.status_code == 200 and not _record_ids(past_the_end.text)
