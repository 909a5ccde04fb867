"""The field-mapping page and contacts against the local HubSpot, through the real hubspot-api-client,
on both backends: a custom property chosen (after a preview on real records) changes what the sync
stores; a property of a type that cannot hold the field is refused; a mapped property removed later is
reported in the run; contacts with their primary company, first and incremental, archived ones
removed; and a connection without the contacts scope reads none and says so."""

from __future__ import annotations

import html

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ecoops.audit import AuditEvent
from ecoops.config import Settings
from ecoops.crm.connections.models import CrmConnection, FieldMapping, SyncRun
from ecoops.crm.hubspot.sync import HubSpotSync
from ecoops.crm.models import Contact
from tests.crm.field_mapping import industries, post_mapping
from tests.crm.hubspot.conftest import ADMIN, connect
from tests.crm.hubspot_server import FakeHubSpot, seed_portal
from tests.factories import sign_in_admin

SEGMENT = "industry_segment"


def _sync(sessions: sessionmaker[Session], settings: Settings) -> SyncRun:
    return HubSpotSync(sessions, settings, ADMIN, trigger="cli").run()


@pytest.fixture
def portal(client: TestClient, session: Session, settings: Settings, fake: FakeHubSpot) -> list[str]:
    """Three companies with a standard industry and a custom segment; connected; an admin signed in."""
    seed_portal(fake, companies=3, deals=3)
    fake.add_property("companies", SEGMENT, type="enumeration")
    companies = list(fake.records["companies"])
    for n, company in enumerate(companies):
        fake.put("companies", {"industry": "BANKING", SEGMENT: f"Segment {n}"}, record_id=company)
    connect(session, settings, fake)
    sign_in_admin(client, session)
    return companies


@pytest.mark.all_backends
def test_a_custom_property_previewed_then_mapped_fills_the_field_at_the_next_sync(
    client: TestClient,
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    portal: list[str],
) -> None:
    assert _sync(sessions, settings).status == "done"
    assert set(industries(session).values()) == {"BANKING"}

    page = html.unescape(client.get("/crm/hubspot/fields?object=companies").text)
    assert f"{SEGMENT} — Industry Segment (enumeration)" in page and "numberofemployees" in page
    preview = post_mapping(
        client, "hubspot", object="companies", **{"field.industry": SEGMENT}, action="preview"
    )
    rows = preview.split('id="preview"')[1]
    assert "Preview: 3 companies records" in preview and "BANKING" not in rows
    assert rows.index("Segment 2") < rows.index("Segment 1") < rows.index("Segment 0")  # newest first
    assert "Ada Seller" in rows  # the owner's name, as the sync stores it
    assert session.scalar(select(FieldMapping)) is None

    saved = post_mapping(client, "hubspot", object="companies", **{"field.industry": SEGMENT}, action="save")
    assert f"Saved: companies reads industry from {SEGMENT} from the next sync." in saved
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "hubspot.field_mapped")).one()
    assert event.details["before"] == "industry"
    again = _sync(sessions, settings)
    assert again.objects["companies"]["updated"] == 3
    assert industries(session) == {f"Company {n}": f"Segment {n}" for n in range(3)}


@pytest.mark.all_backends
def test_a_type_that_cannot_hold_the_field_is_refused(
    client: TestClient, session: Session, portal: list[str]
) -> None:
    refused = post_mapping(
        client, "hubspot", object="companies", **{"field.employees": SEGMENT}, action="save"
    )
    assert (
        f"Employees (employees): {SEGMENT} is a enumeration field, which cannot fill a number field"
        in refused
    )
    refused = post_mapping(
        client, "hubspot", object="deals", **{"field.close_date": "dealname"}, action="save"
    )
    assert "Close date (close_date): dealname is a string field, which cannot fill a date field" in refused
    assert session.scalar(select(FieldMapping)) is None


@pytest.mark.all_backends
def test_a_mapped_property_removed_later_is_reported_in_the_run(
    client: TestClient,
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    fake: FakeHubSpot,
    portal: list[str],
) -> None:
    post_mapping(client, "hubspot", object="companies", **{"field.industry": SEGMENT}, action="save")
    _sync(sessions, settings)
    fake.remove_property("companies", SEGMENT)
    fake.put("companies", {"name": "Company 0 renamed"}, record_id=portal[0])
    run = _sync(sessions, settings)
    assert run.status == "done" and run.objects["companies"]["updated"] == 1
    assert run.warnings == [
        f"companies.industry: mapped to {SEGMENT}, which HubSpot no longer has; not read (its stored "
        "values stay): map another field"
    ]
    assert industries(session)["Company 0 renamed"] == "Segment 0"


@pytest.mark.all_backends
def test_contacts_with_their_company_first_then_incremental_and_archived(
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    fake: FakeHubSpot,
    portal: list[str],
) -> None:
    ada = fake.put("contacts", {"firstname": "Ada", "lastname": "L", "email": "ada@example.com"})
    fake.associate(ada, portal[1], primary=False)
    fake.associate(ada, portal[0])  # the primary company comes first, whatever the order
    bob = fake.put("contacts", {"firstname": "Bob", "jobtitle": "CTO", "phone": "+1 555 0100"})
    fake.associate(bob, portal[2])
    cy = fake.put("contacts", {"lastname": "Cy"})
    first = _sync(sessions, settings)
    assert (first.objects["contacts"]["new"], first.objects["contacts"]["records"]) == (3, 3)
    stored = {c.crm_id: c for c in session.scalars(select(Contact))}
    assert (stored[ada].account_crm_id, stored[ada].email) == (portal[0], "ada@example.com")
    assert (stored[bob].account_crm_id, stored[bob].title, stored[bob].phone) == (
        portal[2],
        "CTO",
        "+1 555 0100",
    )
    assert stored[cy].account_crm_id == ""

    fake.put("contacts", {"jobtitle": "CEO"}, record_id=bob)
    fake.archive("contacts", cy)
    dee = fake.put("contacts", {"firstname": "Dee"})
    again = _sync(sessions, settings)
    assert (again.objects["contacts"]["new"], again.objects["contacts"]["updated"]) == (1, 1)
    assert again.objects["contacts archived"]["deleted"] == 1
    session.expire_all()
    stored = {c.crm_id: c for c in session.scalars(select(Contact))}
    assert set(stored) == {ada, bob, dee} and stored[bob].title == "CEO"
    assert any("/crm/v4/associations/contacts/companies/batch/read" in r for r in fake.requests)


@pytest.mark.all_backends
def test_without_the_contacts_scope_no_contact_is_read_and_the_run_says_why(
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    fake: FakeHubSpot,
    portal: list[str],
) -> None:
    fake.put("contacts", {"firstname": "Ada"})
    connection = session.scalars(select(CrmConnection)).one()
    connection.scopes = connection.scopes.replace("crm.objects.contacts.read", "").strip()
    session.commit()
    run = _sync(sessions, settings)
    assert run.status == "done" and "contacts" not in run.objects
    assert run.warnings == [
        "contacts: not read, the connection lacks the scope crm.objects.contacts.read: add it to the app "
        "and connect again"
    ]
    assert session.scalar(select(Contact)) is None
