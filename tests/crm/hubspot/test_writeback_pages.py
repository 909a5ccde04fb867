"""The write-back section of the HubSpot page, through the app and the worker: a property the portal
lacks refused with the reason, one turned on, a dry run listed on its run's page, a write-back by the
worker arriving in the local HubSpot, the write-back that follows a sync reporting a person's change,
and a Salesforce run not found under the HubSpot page."""

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
from tests.crm.hubspot.conftest import connect
from tests.crm.hubspot_server import FakeHubSpot, seed_portal
from tests.crm.writeback_setup import overlap
from tests.factories import csrf_from, make_partner, sign_in_admin

PAGE = "/crm/hubspot"
FIELD = f"{PAGE}/writeback/fields/account_partners"


@pytest.mark.all_backends
def test_turn_a_property_on_dry_run_then_write_back_by_the_worker(
    client: TestClient,
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    fake: FakeHubSpot,
) -> None:
    seed_portal(fake, companies=2, deals=2)
    connect(session, settings, fake)
    sign_in_admin(client, session)
    token = csrf_from(client.get(PAGE).text)

    def post(path: str, **form: str) -> str:
        answer = client.post(path, data=form | {"csrf_token": token})
        assert answer.status_code == 303
        return html.unescape(client.get(PAGE).text)

    post(f"{PAGE}/sync")
    assert queue.work_once(sessions, settings) == "done"
    company = next(iter(fake.records["companies"]))
    overlap(session, make_partner(session, name="Nimbus"), company, "Customers")
    session.commit()

    page = post(FIELD, crm_field="ecoops_partners", enabled="true")
    assert "companies have no property ecoops_partners: create it in HubSpot" in page
    fake.add_property("companies", "ecoops_partners")
    fake.add_property("companies", "partner_rollup", calculated=True)
    fake.add_property("deals", "ecoops_class_pick", type="enumeration", field_type="select")
    assert f'href="{PAGE}/writeback/choices"' in page
    listed = html.unescape(client.get(f"{PAGE}/writeback/choices").text)
    companies, deals = listed.split("Deal properties")
    assert "ecoops_partners" in companies and "partner_rollup" not in listed  # calculated: left out
    assert f'formaction="{PAGE}/writeback/fields/account_partners"' in companies
    pick = deals.split("<code>ecoops_class_pick</code>")[1].split("</tr>")[0]
    assert "dropdown select" in pick and "/writeback/fields/opportunity_class" in pick
    assert "/writeback/fields/opportunity_partners" not in pick  # a dropdown holds no list of names
    page = post(FIELD, crm_field="ecoops_partners", enabled="true")
    assert "Overlapping partners is written to ecoops_partners" in page
    assert "HubSpot property" in page and "(Company)" in page and 'placeholder="ecoops_partner_class"' in page

    post(f"{PAGE}/writeback/run", dry_run="true")
    assert queue.work_once(sessions, settings) == "done"
    dry = session.scalar(select(WritebackRun).where(WritebackRun.dry_run.is_(True)))
    assert dry is not None and dry.written == 1
    listed = html.unescape(client.get(f"{PAGE}/writeback/runs/{dry.id}").text)
    assert "would change" in listed and company in listed and "Nimbus" in listed and "In HubSpot" in listed
    assert fake.records["companies"][company]["properties"].get("ecoops_partners") is None
    assert client.get(f"/crm/salesforce/writeback/runs/{dry.id}").status_code == 404  # not Salesforce's

    post(f"{PAGE}/writeback/run")
    assert queue.work_once(sessions, settings) == "done"
    assert fake.records["companies"][company]["properties"]["ecoops_partners"] == "Nimbus"

    # A person edits the property; a new partner makes ecoops want to write: the write-back after the
    # next sync reports the conflict on the page and keeps the person's value.
    fake.put("companies", {"ecoops_partners": "ask Dana"}, record_id=company)
    overlap(session, make_partner(session, name="Beta Cloud"), company, "Customers")
    session.commit()
    post(f"{PAGE}/sync")
    assert queue.work_once(sessions, settings) == "done"
    after = session.scalars(select(WritebackRun).order_by(WritebackRun.id.desc())).first()
    assert after is not None and (after.trigger, after.conflicts, after.written) == ("after_sync", 1, 0)
    page = html.unescape(client.get(PAGE).text)
    assert "Conflicts and failures of the last write-back" in page and "ask Dana" in page
    assert fake.records["companies"][company]["properties"]["ecoops_partners"] == "ask Dana"

    post(FIELD, crm_field="ecoops_partners")  # the box unticked: off
    assert "turn write-back on for a field first" in post(f"{PAGE}/writeback/run")
    actions = list(session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("crm.writeback%"))))
    assert actions.count("crm.writeback_field_set") == 2 and "crm.writeback_dry_run" in actions
    assert actions.count("crm.writeback_done") == 2
