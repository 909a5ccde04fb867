"""The HubSpot page on both backends: connect by OAuth (the browser's round trip to the local HubSpot's
install page and back), sync through the worker's job, see the synced company and the page's figures
(hub id, scopes, API calls left); a private app's token; a refused token and a forged state named; the
stage map, schedule and disconnect through the shared forms; the worker's tick over both CRMs."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
import requests
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ecoops.audit import AuditEvent, utcnow
from ecoops.config import Settings
from ecoops.crm.connections.models import CrmConnection, StageMapping, SyncRun
from ecoops.crm.connections.secrets import unseal
from ecoops.crm.connections.service import queue_scheduled_syncs
from ecoops.jobs import queue
from ecoops.jobs.models import Job
from tests.crm.hubspot_server import HUB_ID, FakeHubSpot, seed_portal
from tests.factories import csrf_from, sign_in_admin

PAGE = "/crm/hubspot"


def _admin(client: TestClient, session: Session) -> str:
    sign_in_admin(client, session)
    return csrf_from(client.get(PAGE).text)


@pytest.mark.all_backends
def test_connect_by_oauth_sync_by_the_worker_and_see_the_company(
    client: TestClient,
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    fake: FakeHubSpot,
) -> None:
    seed_portal(fake, companies=2, deals=3)
    token = _admin(client, session)
    assert "HubSpot is not connected" in client.get(PAGE).text
    form = {"client_id": fake.client_id, "client_secret": fake.client_secret, "csrf_token": token}
    started = client.post(f"{PAGE}/connect", data=form)
    assert started.status_code == 303 and started.headers["location"] == PAGE
    link = re.search(r'href="([^"]+)">Continue to HubSpot', client.get(PAGE).text)
    assert link is not None and link[1].startswith(f"{fake.url}/oauth/authorize?")
    assert "crm.objects.deals.read" in html.unescape(link[1]).replace("+", " ")
    allowed = requests.get(html.unescape(link[1]), allow_redirects=False, timeout=10)
    assert allowed.headers["location"].startswith(f"http://testserver{PAGE}/callback?")
    back = client.get(allowed.headers["location"].removeprefix("http://testserver"))
    assert back.status_code == 303 and back.headers["location"] == PAGE
    connection = session.scalar(select(CrmConnection).where(CrmConnection.provider == "hubspot"))
    assert connection is not None and (connection.status, connection.flow) == ("connected", "oauth")
    assert unseal(settings, connection.refresh_token) in fake.refresh_tokens
    assert fake.client_secret not in connection.client_secret  # sealed
    page = client.get(PAGE).text
    assert str(HUB_ID) in page and "crm.objects.owners.read" in page and "never" in page

    assert client.post(f"{PAGE}/sync", data={"csrf_token": token}).status_code == 303
    assert client.post(f"{PAGE}/sync", data={"csrf_token": token}).status_code == 303  # one at a time
    assert len(session.scalars(select(Job).where(Job.kind == "hubspot.sync")).all()) == 1
    outcome = queue.work_once(sessions, settings)
    assert outcome == "done", outcome
    session.expire_all()  # the worker wrote through its own session
    run = session.scalar(select(SyncRun))
    assert run is not None and run.status == "done" and run.objects["deals"]["new"] == 3
    page = client.get(PAGE).text
    used = session.get_one(CrmConnection, connection.id).api_used or 0
    assert "never" not in page and f"{250_000 - used:,} of 250,000" in page
    assert "Closed Won (Renewals)" in page and "hs_lastmodifieddate" in page
    accounts = client.get("/accounts?q=Company").text
    assert "Company 0" in accounts and "Company 1" in accounts

    stage = session.scalar(select(StageMapping).where(StageMapping.stage == "Contract Sent"))
    assert stage is not None
    client.post(f"{PAGE}/stages/{stage.id}", data={"outcome": "won", "csrf_token": token})
    session.refresh(stage)
    assert (stage.is_closed, stage.is_won) == (True, True)
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("hubspot.%"))).all()
    assert {
        "hubspot.connect_started",
        "hubspot.connected",
        "hubspot.sync_done",
        "hubspot.stage_mapped",
    } <= set(actions)


def test_a_private_app_token_connects_and_a_refused_one_is_named(
    client: TestClient, session: Session, fake: FakeHubSpot
) -> None:
    token = _admin(client, session)
    client.post(f"{PAGE}/token", data={"token": "pat-na1-wrong", "csrf_token": token})
    assert "token: HubSpot refused it" in client.get(PAGE).text
    assert session.scalar(select(CrmConnection)) is None
    client.post(f"{PAGE}/token", data={"token": fake.private_token, "csrf_token": token})
    page = client.get(PAGE).text
    assert f"Connected to HubSpot portal {HUB_ID} with a private app" in page
    assert "Private app (access token)" in page


def test_a_forged_state_and_a_denied_install_connect_nothing(
    client: TestClient, session: Session, fake: FakeHubSpot
) -> None:
    token = _admin(client, session)
    form = {"client_id": fake.client_id, "client_secret": fake.client_secret, "csrf_token": token}
    client.post(f"{PAGE}/connect", data=form)
    assert client.get(f"{PAGE}/callback?code=abc&state=forged").status_code == 303
    assert "matches no connection under way" in client.get(PAGE).text
    client.get(f"{PAGE}/callback?error=access_denied&error_description=user+declined")
    assert "did not allow the connection: access_denied" in client.get(PAGE).text
    connection = session.scalar(select(CrmConnection))
    assert connection is not None and connection.status == "pending"


def test_schedule_and_disconnect_and_the_worker_tick_over_both_crms(
    client: TestClient, session: Session, settings: Settings, fake: FakeHubSpot
) -> None:
    token = _admin(client, session)
    client.post(f"{PAGE}/token", data={"token": fake.private_token, "csrf_token": token})
    salesforce = CrmConnection(
        provider="salesforce", flow="jwt_bearer", login_url="https://x", client_id="k", status="connected"
    )
    session.add(salesforce)
    session.flush()
    now = utcnow()
    assert queue_scheduled_syncs(session, settings, now) == 2  # each connection, never synced: at once
    assert queue_scheduled_syncs(session, settings, now) == 0
    kinds = sorted(session.scalars(select(Job.kind)).all())
    assert kinds == ["hubspot.sync", "salesforce.sync"]
    client.post(f"{PAGE}/schedule", data={"sync_every_minutes": "0", "csrf_token": token})
    assert "Scheduled syncs are off" in client.get(PAGE).text
    for job in session.scalars(select(Job)):
        session.delete(job)
    session.flush()
    assert queue_scheduled_syncs(session, settings, now + timedelta(days=1)) == 1  # Salesforce's only
    client.post(f"{PAGE}/disconnect", data={"csrf_token": token})
    connection = session.scalar(select(CrmConnection).where(CrmConnection.provider == "hubspot"))
    assert connection is not None and connection.status == "disconnected" and connection.access_token == ""
    assert "HubSpot is not connected" in client.get(PAGE).text
