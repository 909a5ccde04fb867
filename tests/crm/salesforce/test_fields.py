"""The field-mapping page against the local Salesforce, through the real simple-salesforce client, on
both backends: a custom field chosen (after a preview on real records) changes what the sync stores; a
type that cannot hold the field and a field the org lacks are refused; a value the import would refuse
shows in the preview with its field named; a mapped field deleted later is reported in the run."""

from __future__ import annotations

import html

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ecoops.audit import AuditEvent
from ecoops.config import Settings
from ecoops.crm.connections.models import FieldMapping, SyncRun
from ecoops.crm.models import Account, Contact, Opportunity
from ecoops.crm.salesforce.sync import SalesforceSync
from tests.crm.field_mapping import industries, post_mapping
from tests.crm.salesforce.conftest import ADMIN, connect
from tests.crm.salesforce_server import FakeSalesforce, seed_org
from tests.factories import sign_in_admin

SEGMENT = "Industry_Segment__c"


def _sync(sessions: sessionmaker[Session], settings: Settings) -> SyncRun:
    return SalesforceSync(sessions, settings, ADMIN, trigger="cli").run()


@pytest.fixture
def org(
    client: TestClient,
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    fake: FakeSalesforce,
    key_pair: tuple[str, str],
) -> list[str]:
    """Three accounts with a standard Industry and a custom segment; connected; an admin signed in."""
    seed_org(fake, accounts=3, opportunities=2)
    fake.add_field("Account", SEGMENT, type="picklist")
    accounts = list(fake.records["Account"])
    for n, account in enumerate(accounts):
        fake.put("Account", {"Id": account, "Industry": "Banking", SEGMENT: f"Segment {n}"})
    connect(session, settings, fake, key_pair[0])
    sign_in_admin(client, session)
    return accounts


@pytest.mark.all_backends
def test_a_custom_field_previewed_then_mapped_fills_the_field_at_the_next_sync(
    client: TestClient,
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    org: list[str],
) -> None:
    first = _sync(sessions, settings)
    assert first.status == "done"
    assert industries(session) == dict.fromkeys(("Account 0", "Account 1", "Account 2"), "Banking")

    page = html.unescape(client.get("/crm/salesforce/fields?object=Account").text)
    assert f"{SEGMENT} (picklist)" in page and "NumberOfEmployees (int)" in page  # describe's types
    assert "<td>Industry</td>" in page  # the built-in choice

    preview = post_mapping(
        client, "salesforce", object="Account", **{"field.industry": SEGMENT}, action="preview"
    )
    assert "Preview: 3 Account records" in preview
    # the newest first (each account was last changed in order 0, 1, 2), as ecoops would store them
    rows = preview.split('id="preview"')[1]
    assert rows.index("Segment 2") < rows.index("Segment 1") < rows.index("Segment 0")
    assert "Banking" not in rows and "account2.com" in rows
    assert session.scalar(select(FieldMapping)) is None  # a preview saves nothing

    saved = post_mapping(client, "salesforce", object="Account", **{"field.industry": SEGMENT}, action="save")
    assert f"Saved: Account reads industry from {SEGMENT} from the next sync." in saved
    session.expire_all()
    stored = session.scalars(select(FieldMapping)).one()
    assert (stored.object_name, stored.field, stored.crm_field, stored.crm_type) == (
        "Account",
        "industry",
        SEGMENT,
        "picklist",
    )
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "salesforce.field_mapped")).one()
    assert event.details["before"] == "Industry" and event.details["crm_field"] == SEGMENT

    again = _sync(sessions, settings)  # the mapping dropped Account's checkpoint: every account is read again
    assert again.objects["Account"]["updated"] == 3 and again.objects["Opportunity"]["updated"] == 0
    assert industries(session) == {f"Account {n}": f"Segment {n}" for n in range(3)}

    # Back to the built-in field: the stored choice goes, the standard field fills it again.
    post_mapping(client, "salesforce", object="Account", **{"field.industry": "Industry"}, action="save")
    assert session.scalar(select(FieldMapping)) is None
    _sync(sessions, settings)
    assert set(industries(session).values()) == {"Banking"}


@pytest.mark.all_backends
def test_a_type_that_cannot_hold_the_field_or_a_missing_field_is_refused(
    client: TestClient, session: Session, org: list[str]
) -> None:
    refused = post_mapping(
        client, "salesforce", object="Account", **{"field.employees": SEGMENT}, action="save"
    )
    assert (
        f"Nothing was changed: Employees (employees): {SEGMENT} is a picklist field, which cannot fill a "
        "number field." in refused
    )
    refused = post_mapping(
        client, "salesforce", object="Opportunity", **{"field.close_date": "Name"}, action="preview"
    )
    assert "Close date (close_date): Name is a string field, which cannot fill a date field" in refused
    assert "Preview:" not in refused
    refused = post_mapping(
        client, "salesforce", object="Account", **{"field.industry": "No_Such__c"}, action="save"
    )
    assert "Industry (industry): Salesforce has no field No_Such__c on Account" in refused
    # Type already fills the account's type (built in): it cannot fill industry as well
    refused = post_mapping(client, "salesforce", object="Account", **{"field.industry": "Type"})
    assert "Type (account_type): Type already fills industry" in refused
    assert session.scalar(select(FieldMapping)) is None


@pytest.mark.all_backends
def test_the_preview_names_the_field_of_a_value_the_import_would_refuse(
    client: TestClient, fake: FakeSalesforce, org: list[str]
) -> None:
    fake.add_field("Opportunity", "Deal_Size__c", type="currency")
    deals = list(fake.records["Opportunity"])
    fake.put("Opportunity", {"Id": deals[0], "Deal_Size__c": 5000.0})
    fake.put("Opportunity", {"Id": deals[1], "Deal_Size__c": "n/a"})  # a bad value the API hands over
    preview = post_mapping(
        client, "salesforce", object="Opportunity", **{"field.amount": "Deal_Size__c"}, action="preview"
    )
    assert "Preview: 2 Opportunity records" in preview
    assert "amount (Deal_Size__c): 'n/a':" in preview
    rows = preview.split('id="preview"')[1]
    assert "5000.00" in rows  # the other deal's amount, from the custom field (USD: converted as is)


@pytest.mark.all_backends
def test_a_mapped_field_deleted_from_the_schema_is_reported_in_the_run(
    client: TestClient,
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    fake: FakeSalesforce,
    org: list[str],
) -> None:
    post_mapping(client, "salesforce", object="Account", **{"field.industry": SEGMENT}, action="save")
    _sync(sessions, settings)
    fake.remove_field("Account", SEGMENT)  # an admin deleted it in Salesforce
    fake.put("Account", {"Id": org[0], "Name": "Account 0 renamed"})
    run = _sync(sessions, settings)
    assert run.status == "done" and run.objects["Account"]["updated"] == 1
    assert run.warnings == [
        f"Account.industry: mapped to {SEGMENT}, which Salesforce no longer has; not read (its stored "
        "values stay): map another field"
    ]
    assert industries(session)["Account 0 renamed"] == "Segment 0"  # kept, not cleared
    page = html.unescape(client.get("/crm/salesforce").text)
    assert f"mapped to {SEGMENT}, which Salesforce no longer has" in page
    fields = html.unescape(client.get("/crm/salesforce/fields?object=Account").text)
    assert f"{SEGMENT} (no longer in Salesforce)" in fields


@pytest.mark.all_backends
def test_contacts_first_then_incremental_with_changes_and_deletions(
    client: TestClient,
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    fake: FakeSalesforce,
    org: list[str],
) -> None:
    ada = fake.put(
        "Contact",
        {"AccountId": org[0], "FirstName": "Ada", "LastName": "Lovelace", "Email": "ADA@Example.com"},
    )
    bob = fake.put("Contact", {"AccountId": org[1], "FirstName": "Bob", "LastName": "Byte", "Title": "CTO"})
    cy = fake.put("Contact", {"AccountId": org[1], "LastName": "Cy", "Phone": "+1 555 0100"})
    first = _sync(sessions, settings)
    assert first.objects["Contact"] == {
        "records": 3,
        "new": 3,
        "updated": 0,
        "unchanged": 0,
        "deleted": 0,
        "rejected": 0,
    }
    stored = {c.crm_id: c for c in session.scalars(select(Contact))}
    assert (stored[ada].account_crm_id, stored[ada].email, stored[ada].first_name) == (
        org[0],
        "ada@example.com",
        "Ada",
    )
    assert (stored[bob].title, stored[cy].phone, stored[cy].account_crm_id) == ("CTO", "+1 555 0100", org[1])

    fake.put("Contact", {"Id": bob, "Title": "CEO"})
    fake.delete("Contact", cy)
    dee = fake.put("Contact", {"AccountId": org[2], "FirstName": "Dee", "LastName": "Dee"})
    again = _sync(sessions, settings)
    assert (again.objects["Contact"]["new"], again.objects["Contact"]["updated"]) == (1, 1)
    assert again.objects["Contact"]["deleted"] == 1
    session.expire_all()
    stored = {c.crm_id: c for c in session.scalars(select(Contact))}
    assert set(stored) == {ada, bob, dee} and stored[bob].title == "CEO"
    assert session.scalar(select(Opportunity).limit(1)) is not None  # the other objects synced beside
    # the synced account's page lists its contacts (the deleted one gone)
    account = session.scalars(select(Account).where(Account.crm_id == org[1])).one()
    page = html.unescape(client.get(f"/accounts/{account.id}").text)
    assert "Bob" in page and "CEO" in page and "+1 555 0100" not in page
