"""The recruiting list, a partner's fit and the criteria form, as pages."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ecoops.actors import Role
from ecoops.fit import service
from ecoops.fit.models import Criterion
from tests.factories import csrf_from, make_user, sign_in
from tests.fit.scenario import seed


def test_the_recruiting_list_ranks_candidates_with_reasons(
    client: TestClient, session: Session, tmp_path: Path
) -> None:
    w = seed(session, tmp_path)
    manager = make_user(session, Role.PARTNER_MANAGER)
    session.flush()
    sign_in(client, manager.email)
    page = client.get("/fit").text
    assert page.index("Northwind") < page.index("Contoso")
    assert "Overlap with our customers +15.0" in page and "77.5" in page
    assert "Beta" not in page
    assert "Beta" in client.get("/fit", params={"who": "current"}).text
    assert "No candidates match" in client.get("/fit", params={"type": "agency"}).text
    detail = client.get(f"/fit/partners/{w.northwind.id}").text
    assert "Fit of Northwind: 77.5 / 100" in detail
    saved = client.post(
        f"/fit/partners/{w.contoso.id}",
        data={"employees": "200", "integration_status": "", "csrf_token": csrf_from(detail)},
    )
    assert saved.status_code == 303
    refused = client.post(
        "/fit/criteria",
        data={"region.weight": "10", "region.target": "Germany", "csrf_token": csrf_from(detail)},
        follow_redirects=True,
    )
    assert "Nothing was changed: region.target: countries are 2-letter ISO codes, not Germany" in refused.text
    client.post(
        "/fit/criteria",
        data={"region.weight": "10", "region.target": "de", "csrf_token": csrf_from(detail)},
    )
    assert service.criteria(session)[Criterion.REGION].target == "DE"
    assert service.profile(session, w.contoso.id).employees == 200  # type: ignore[union-attr]
