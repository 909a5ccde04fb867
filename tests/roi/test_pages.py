"""The ROI dashboard as a page: its figures, "not defined" without costs, its records links; costs entered
through its form."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ecoops.actors import Role
from ecoops.config import Settings
from tests.factories import csrf_from, make_user, sign_in
from tests.goals.scenario import seed

Q1 = {"from": "2025-01-01", "to": "2025-03-31"}


@pytest.mark.all_backends
def test_the_roi_dashboard_opens_to_its_records(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(session)
    monkeypatch.setattr(Settings, "today", lambda self: date(2025, 4, 15))
    ops = make_user(session, Role.OPS)
    session.flush()
    sign_in(client, ops.email)
    page = client.get("/roi", params=Q1)
    assert page.status_code == 200
    assert page.text.count("not defined") >= 2  # both ROI figures: no cost yet
    assert (
        "/dashboards/figures/revenue/records?from=2025-01-01&amp;to=2025-03-31&amp;as_of=2025-03-31&cohort=sourced"
        in page.text
    )
    added = client.post(
        "/roi/costs",
        data={"month": "2025-03", "category": "people", "amount": "1500", "csrf_token": csrf_from(page.text)},
        follow_redirects=True,
    )
    assert "Cost recorded: people 1,500.00 USD in 2025-03." in added.text
    page = client.get("/roi", params=Q1).text
    assert "-46.7%" in page and "166.7%" in page
    refused = client.post(
        "/roi/costs",
        data={"month": "March", "category": "people", "amount": "1", "csrf_token": csrf_from(page)},
        follow_redirects=True,
    )
    assert "Nothing was changed: month: a month as YYYY-MM, not &#39;March&#39;" in refused.text
    records = client.get(
        "/dashboards/figures/revenue/records", params={**Q1, "as_of": "2025-03-31", "cohort": "sourced"}
    )
    assert records.status_code == 200
