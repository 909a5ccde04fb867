"""The issue's "done when", on a (small) demo workspace, through the web app as people would do it:
a partner registers a deal, a second partner's registration on the same company is flagged, the manager
approves one and the partner sees it, an outbound referral is recorded, and no partner user reaches
another partner's records."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ecoops.accounts.models import PartnerUser
from ecoops.actors import SYSTEM
from ecoops.config import Settings
from ecoops.db import make_engine, migrate, session_factory, transaction
from ecoops.demo.people import DEMO_PASSWORD, STAFF, demo_sign_ins
from ecoops.demo.workspace import seed_workspace
from ecoops.partners.models import Partner
from ecoops.web.app import create_app
from tests.factories import cheap_password_hashing, csrf_from, sign_in


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, list[tuple[str, int, str]]]]:
    folder = Path(tmp_path_factory.mktemp("demo-referrals"))
    settings = Settings(env="test", var_dir=folder, secret_key="d" * 40)
    engine = make_engine(settings.effective_database_url)
    migrate(engine)
    with cheap_password_hashing():
        with transaction(session_factory(engine)) as session:
            seed_workspace(session, SYSTEM, seed=11, as_of=date(2026, 6, 1), account_count=300)
            admins = [s.email for s in demo_sign_ins(session) if s.role.startswith("partner admin")]
            rows = session.execute(
                select(PartnerUser.email, Partner.id, Partner.name)
                .join(Partner, Partner.id == PartnerUser.partner_id)
                .where(PartnerUser.email.in_(admins))
                .order_by(PartnerUser.id)
            )
            partner_admins = [(email, partner_id, name) for email, partner_id, name in rows]
        with TestClient(create_app(settings, engine), follow_redirects=False) as client:
            yield client, partner_admins
    engine.dispose()


def as_user(client: TestClient, email: str) -> str:
    client.cookies.clear()
    sign_in(client, email, DEMO_PASSWORD)
    return csrf_from(client.get("/", follow_redirects=True).text)


def register(client: TestClient, token: str, company: str) -> int:
    data = {
        "csrf_token": token,
        "kind": "deal_registration",
        "company": company,
        "domain": "donewhen-robotics.com",
    }
    response = client.post("/portal/referrals", data=data)
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


def test_done_when_on_the_demo_workspace(demo):
    client, partner_admins = demo
    assert len(partner_admins) >= 2
    (first_email, _first_id, first_name), (second_email, second_id, _name) = partner_admins[:2]

    first = register(client, as_user(client, first_email), "Done When Robotics GmbH")
    second = register(client, as_user(client, second_email), "Done When Robotics")
    assert client.get(f"/portal/referrals/{first}").status_code == 404  # not the second partner's

    manager = next(m.email for m in STAFF if m.role.value == "partner_manager")
    token = as_user(client, manager)
    assert f"{first_name} registered it first" in client.get(f"/referrals/{second}").text
    assert client.post(f"/referrals/{first}/approve", data={"csrf_token": token}).status_code == 303

    as_user(client, first_email)
    page = client.get(f"/portal/referrals/{first}").text
    assert "submitted → " in page and 'status-approved">approved' in page

    seller = next(m.email for m in STAFF if m.role.value == "sales")
    token = as_user(client, seller)
    data = {"csrf_token": token, "partner_id": second_id, "kind": "eql", "company": "Needs A Partner Ltd"}
    response = client.post("/outbound-referrals", data=data)
    assert response.status_code == 303
    outbound_id = int(response.headers["location"].rsplit("/", 1)[1])

    as_user(client, second_email)
    assert "Needs A Partner Ltd" in client.get("/portal/referrals").text
    as_user(client, first_email)
    assert client.get(f"/portal/referrals/{outbound_id}").status_code == 404
    assert client.get(f"/portal/referrals/{second}").status_code == 404
    assert "Needs A Partner" not in client.get("/portal/referrals/export.csv").text
