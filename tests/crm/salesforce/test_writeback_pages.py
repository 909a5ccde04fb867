"""The write-back section of the Salesforce page, through the app and the worker: a missing field
refused with the reason, a field turned on, a dry run listed, a write-back by the worker arriving in
the local Salesforce, and the write-back that follows a sync."""

from __future__ import annotations

import html

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ecoops.audit import AuditEvent
from ecoops.config import Settings
from ecoops.crm.writeback.models import WritebackRun
from ecoops.jobs import queue
from tests.crm.salesforce.conftest import connect
from tests.crm.salesforce_server import FakeSalesforce, seed_org
from tests.crm.writeback_setup import overlap
from tests.factories import csrf_from, make_partner, sign_in_admin

FIELD = "/crm/salesforce/writeback/fields/account_partners"


@pytest.mark.all_backends
def test_turn_a_field_on_dry_run_then_write_back_by_the_worker(
    client: TestClient,
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    fake: FakeSalesforce,
    key_pair: tuple[str, str],
) -> None:
    seed_org(fake, accounts=2, opportunities=2)
    connect(session, settings, fake, key_pair[0])
    sign_in_admin(client, session)
    token = csrf_from(client.get("/crm/salesforce").text)
    assert client.post(f"{PAGE_SYNC}", data={"csrf_token": token}).status_code == 303
    assert queue.work_once(sessions, settings) == "done"
    account = next(iter(fake.records["Account"]))
    overlap(session, make_partner(session, name="Acme Partners"), account, "Customers")
    session.commit()

    def post(path: str, **form: str) -> str:
        answer = client.post(path, data=form | {"csrf_token": token})
        assert answer.status_code == 303
        return html.unescape(client.get("/crm/salesforce").text)

    page = post(FIELD, crm_field="Ecoops_Partners__c", enabled="true")
    assert "Account has no field Ecoops_Partners__c: create it in Salesforce" in page
    fake.add_field("Account", "Ecoops_Partners__c")
    page = post(FIELD, crm_field="Ecoops_Partners__c", enabled="true")
    assert "Overlapping partners is written to Ecoops_Partners__c" in page

    post("/crm/salesforce/writeback/run", dry_run="true")
    assert queue.work_once(sessions, settings) == "done"
    dry = session.scalar(select(WritebackRun).where(WritebackRun.dry_run.is_(True)))
    assert dry is not None and dry.written == 1
    listed = html.unescape(client.get(f"/crm/salesforce/writeback/runs/{dry.id}").text)
    assert "would change" in listed and account in listed and "Acme Partners" in listed
    assert "Ecoops_Partners__c" not in fake.records["Account"][account]

    post("/crm/salesforce/writeback/run")
    assert queue.work_once(sessions, settings) == "done"
    assert fake.records["Account"][account]["Ecoops_Partners__c"] == "Acme Partners"

    # A person edits the field; a new partner makes ecoops want to write: the next sync's
    # write-back reports the conflict on the page and keeps the person's value.
    fake.put("Account", {"Id": account, "Ecoops_Partners__c": "ask Dana"})
    overlap(session, make_partner(session, name="Beta Cloud"), account, "Customers")
    session.commit()
    post(PAGE_SYNC)
    assert queue.work_once(sessions, settings) == "done"
    after = session.scalars(select(WritebackRun).order_by(WritebackRun.id.desc())).first()
    assert after is not None and (after.trigger, after.conflicts, after.written) == ("after_sync", 1, 0)
    page = html.unescape(client.get("/crm/salesforce").text)
    assert "Conflicts and failures of the last write-back" in page and "ask Dana" in page
    assert fake.records["Account"][account]["Ecoops_Partners__c"] == "ask Dana"

    post(FIELD, crm_field="Ecoops_Partners__c")  # the box unticked: off
    page = post("/crm/salesforce/writeback/run")
    assert "turn write-back on for a field first" in page
    actions = list(session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("crm.writeback%"))))
    assert actions.count("crm.writeback_field_set") == 2 and "crm.writeback_dry_run" in actions


PAGE_SYNC = "/crm/salesforce/sync"
