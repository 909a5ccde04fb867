"""The Salesforce page on both backends: connect by the web-server flow (the browser's round trip to the
local Salesforce and back), sync through the worker's job, see the synced account; the stage map and the
schedule; and the worker's tick queueing a scheduled sync."""

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
from tests.crm.salesforce_server import FakeSalesforce, seed_org
from tests.factories import csrf_from, sign_in_admin


def _connect_in_the_browser(client: TestClient, fake: FakeSalesforce) -> None:
    token = csrf_from(client.get("/crm/salesforce").text)
    form = {"login_url": fake.url, "client_id": fake.client_id, "client_secret": fake.client_secret}
    started = client.post("/crm/salesforce/connect", data=form | {"csrf_token": token})
    assert started.status_code == 303 and started.headers["location"] == "/crm/salesforce"
    link = re.search(r'href="([^"]+)">Continue to Salesforce', client.get("/crm/salesforce").text)
    assert link is not None and link[1].startswith(f"{fake.url}/services/oauth2/authorize?")
    allowed = requests.get(html.unescape(link[1]), verify=fake.ca_file, allow_redirects=False, timeout=10)
    assert allowed.status_code == 302 and allowed.headers["location"].startswith(
        "http://testserver/crm/salesforce/callback?"
    )
    back = client.get(allowed.headers["location"].removeprefix("http://testserver"))
    assert back.status_code == 303 and back.headers["location"] == "/crm/salesforce"


@pytest.mark.all_backends
def test_connect_in_the_browser_sync_by_the_worker_and_see_the_account(
    client: TestClient,
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    fake: FakeSalesforce,
) -> None:
    seed_org(fake, accounts=2, opportunities=3)
    sign_in_admin(client, session)
    assert "Salesforce is not connected" in client.get("/crm/salesforce").text
    _connect_in_the_browser(client, fake)
    connection = session.scalar(select(CrmConnection))
    assert connection is not None and connection.status == "connected" and connection.flow == "web_server"
    assert unseal(settings, connection.refresh_token) in fake.refresh_tokens
    assert fake.client_secret not in connection.client_secret  # sealed
    page = client.get("/crm/salesforce").text
    assert "00D000000000001EAA" in page and "api refresh_token" in page and "never" in page

    token = csrf_from(page)
    assert client.post("/crm/salesforce/sync", data={"csrf_token": token}).status_code == 303
    again = client.post("/crm/salesforce/sync", data={"csrf_token": token})
    assert again.status_code == 303  # one job at a time: the second press queues nothing
    assert len(session.scalars(select(Job).where(Job.kind == "salesforce.sync")).all()) == 1
    outcome = queue.work_once(sessions, settings)
    assert outcome == "done", outcome
    assert fake.grants[-1] == "refresh_token"  # the sync's own access token, by the refresh token
    page = client.get("/crm/salesforce").text
    run = session.scalar(select(SyncRun))
    assert run is not None and (run.new, run.records) == (2 + 3 + 3 + 2, 2 + 3 + 3 + 2)
    assert "never" not in page and "Closed Won" in page and "of 100,000" in page
    accounts = client.get("/accounts?q=Account").text
    assert "Account 0" in accounts and "Account 1" in accounts

    negotiation = session.scalar(select(StageMapping).where(StageMapping.stage == "Negotiation"))
    assert negotiation is not None
    token = csrf_from(client.get("/crm/salesforce").text)
    client.post(f"/crm/salesforce/stages/{negotiation.id}", data={"outcome": "won", "csrf_token": token})
    session.refresh(negotiation)
    assert (negotiation.is_closed, negotiation.is_won) == (True, True)
    bad = client.post(
        f"/crm/salesforce/stages/{negotiation.id}", data={"outcome": "maybe", "csrf_token": token}
    )
    assert bad.status_code == 422
    actions = set(session.scalars(select(AuditEvent.action)))
    assert {
        "salesforce.connect_started",
        "salesforce.connected",
        "salesforce.sync_done",
        "salesforce.stage_mapped",
    } <= actions


def test_a_callback_with_a_wrong_state_connects_nothing(
    client: TestClient, session: Session, fake: FakeSalesforce
) -> None:
    sign_in_admin(client, session)
    token = csrf_from(client.get("/crm/salesforce").text)
    form = {"login_url": fake.url, "client_id": fake.client_id, "client_secret": fake.client_secret}
    client.post("/crm/salesforce/connect", data=form | {"csrf_token": token})
    back = client.get("/crm/salesforce/callback?code=abc&state=forged")
    assert back.status_code == 303
    assert "matches no connection under way" in client.get("/crm/salesforce").text
    connection = session.scalar(select(CrmConnection))
    assert connection is not None and connection.status == "pending"
    denied = client.get("/crm/salesforce/callback?error=access_denied&error_description=end-user+denied")
    assert denied.status_code == 303
    assert "did not allow the connection: access_denied" in client.get("/crm/salesforce").text


def test_a_bad_login_url_or_key_is_named(client: TestClient, session: Session, fake: FakeSalesforce) -> None:
    sign_in_admin(client, session)
    token = csrf_from(client.get("/crm/salesforce").text)
    form = {"login_url": "http://login.example", "client_id": "k", "client_secret": "s", "csrf_token": token}
    client.post("/crm/salesforce/connect", data=form)
    assert "login_url: an https address" in client.get("/crm/salesforce").text
    form = {
        "login_url": fake.url,
        "client_id": "k",
        "username": "u",
        "private_key": "nope",
        "csrf_token": token,
    }
    client.post("/crm/salesforce/jwt", data=form)
    assert "private_key: a PEM private key" in client.get("/crm/salesforce").text


@pytest.mark.all_backends
def test_the_worker_tick_queues_a_scheduled_sync_once_per_interval(
    session: Session, settings: Settings
) -> None:
    connection = CrmConnection(
        provider="salesforce",
        flow="jwt_bearer",
        login_url="https://x",
        client_id="k",
        status="connected",
        sync_every_minutes=60,
    )
    session.add(connection)
    session.flush()
    now = utcnow()
    assert queue_scheduled_syncs(session, settings, now) == 1  # never synced: at once
    assert queue_scheduled_syncs(session, settings, now) == 0  # one queued already
    session.query(Job).delete()
    session.add(
        SyncRun(connection_id=connection.id, trigger="schedule", started_at=now - timedelta(minutes=59))
    )
    session.flush()
    assert queue_scheduled_syncs(session, settings, now) == 0  # 59 minutes ago: not yet
    assert queue_scheduled_syncs(session, settings, now + timedelta(minutes=1)) == 1  # 60: due
    connection.sync_every_minutes = 0
    session.query(Job).delete()
    session.flush()
    assert queue_scheduled_syncs(session, settings, now + timedelta(days=1)) == 0  # on demand only


@pytest.mark.all_backends
def test_schedule_and_disconnect_from_the_page(
    client: TestClient, session: Session, settings: Settings
) -> None:
    connection = CrmConnection(
        provider="salesforce",
        flow="jwt_bearer",
        login_url="https://x",
        client_id="k",
        status="connected",
        private_key="sealed",
    )
    session.add(connection)
    sign_in_admin(client, session)
    token = csrf_from(client.get("/crm/salesforce").text)
    client.post("/crm/salesforce/schedule", data={"sync_every_minutes": "15", "csrf_token": token})
    assert "The worker syncs every 15 minutes." in client.get("/crm/salesforce").text
    refused = client.post("/crm/salesforce/schedule", data={"sync_every_minutes": "-1", "csrf_token": token})
    assert refused.status_code == 422
    session.refresh(connection)
    assert connection.sync_every_minutes == 15
    client.post("/crm/salesforce/disconnect", data={"csrf_token": token})
    session.refresh(connection)
    assert (connection.status, connection.private_key) == ("disconnected", "")
    page = client.get("/crm/salesforce").text
    assert "Disconnected. The records synced before stay" in page
    assert client.post("/crm/salesforce/sync", data={"csrf_token": token}).status_code == 303
    assert "Salesforce is not connected: connect it first" in client.get("/crm/salesforce").text
