"""Write-back to the local Salesforce through the real simple-salesforce client (composite sObject
Collections PATCH, SOQL `Id IN`), on both backends: values arrive, a second run calls nothing, a
person's change is a conflict and stays, a refused record fails alone, a dry run writes nothing,
fields refused by describe, the API's faults, batches of 200."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ecoops.accounts.service import InvalidInput
from ecoops.attribution.models import PartnerTouch
from ecoops.config import Settings
from ecoops.crm.salesforce.sync import SalesforceSync
from ecoops.crm.salesforce.writeback import SALESFORCE
from ecoops.crm.writeback import provider
from ecoops.crm.writeback.models import LedgerEntry, WritebackItem, WritebackRun
from ecoops.referrals.models import Referral
from tests.crm.salesforce.conftest import ADMIN, connect
from tests.crm.salesforce_server import FakeSalesforce, seed_org
from tests.crm.writeback_cli import cli_database, run_cli
from tests.crm.writeback_setup import overlap, turn_on, write
from tests.factories import make_partner, make_partner_user

ACCOUNT_FIELDS = {
    "account_partners": "Ecoops_Partners__c",
    "account_populations": "Ecoops_Partner_Populations__c",
    "account_contact": "Ecoops_Partner_Contact__c",
}
OPPORTUNITY_FIELDS = {
    "opportunity_class": "Ecoops_Partner_Class__c",
    "opportunity_partners": "Ecoops_Crediting_Partners__c",
    "opportunity_referral": "Ecoops_Referral_Id__c",
    "opportunity_referral_status": "Ecoops_Referral_Status__c",
}


def _org(
    fake: FakeSalesforce,
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    private_key: str,
    *,
    accounts: int = 3,
    opportunities: int = 4,
) -> tuple[list[str], list[str]]:
    """A synced org with ecoops' custom fields in it; its account and opportunity ids, in order."""
    seed_org(fake, accounts=accounts, opportunities=opportunities)
    for name in ACCOUNT_FIELDS.values():
        fake.add_field("Account", name, type="textarea" if "Populations" in name else "string")
    fake.add_field("Opportunity", OPPORTUNITY_FIELDS["opportunity_class"], type="picklist")
    for target in ("opportunity_partners", "opportunity_referral", "opportunity_referral_status"):
        fake.add_field("Opportunity", OPPORTUNITY_FIELDS[target])
    connect(session, settings, fake, private_key)
    assert SalesforceSync(sessions, settings, ADMIN, trigger="cli").run().status == "done"
    return list(fake.records["Account"]), list(fake.records["Opportunity"])


def _items(session: Session, run: WritebackRun) -> list[tuple[str, str, str, str, str]]:
    rows = session.scalars(
        select(WritebackItem).where(WritebackItem.run_id == run.id).order_by(WritebackItem.id)
    )
    return [(i.outcome, i.record_id, i.crm_field, i.old, i.new) for i in rows]


@pytest.mark.all_backends
def test_values_arrive_and_a_second_run_calls_nothing(
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    fake: FakeSalesforce,
    key_pair: tuple[str, str],
) -> None:
    accounts, deals = _org(fake, session, sessions, settings, key_pair[0])
    acme, beta = make_partner(session, name="Acme Partners"), make_partner(session, name="Beta Cloud")
    make_partner_user(session, beta, name="Bea Seller", email="bea@beta.example", contact_role="sales")
    make_partner_user(session, beta, name="Ben Tech", email="ben@beta.example", contact_role="technical")
    overlap(session, acme, accounts[0], "Customers")
    overlap(session, beta, accounts[0], "Prospects")
    overlap(session, beta, accounts[1], "Customers")
    created = date(2026, 1, 5)  # the seeded deals' CreatedDate
    before_close = date(2026, 1, 2)  # deal 2 closed on 3 January (its stage history): touched before
    session.add(
        PartnerTouch(partner_id=acme.id, opportunity_crm_id=deals[1], kind="referral", touched_on=created)
    )
    session.add(
        PartnerTouch(partner_id=beta.id, opportunity_crm_id=deals[2], kind="co_sell", touched_on=before_close)
    )
    session.add(
        PartnerTouch(partner_id=acme.id, opportunity_crm_id=deals[2], kind="co_sell", touched_on=before_close)
    )
    referral = Referral(
        direction="inbound",
        kind="deal_registration",
        partner_id=acme.id,
        company="Account 1",
        status="approved",
        submitted_via="portal",
        opportunity_crm_id=deals[1],
    )
    session.add(referral)
    session.commit()
    turn_on(SALESFORCE, session, settings, ACCOUNT_FIELDS | OPPORTUNITY_FIELDS)

    run = write(SALESFORCE, sessions, settings)
    got = fake.records["Account"]
    assert got[accounts[0]]["Ecoops_Partners__c"] == "Acme Partners; Beta Cloud"
    assert (
        got[accounts[0]]["Ecoops_Partner_Populations__c"] == "Acme Partners: Customers; Beta Cloud: Prospects"
    )
    # Beta's sales contact over its technical one; Acme has no contact
    assert got[accounts[0]]["Ecoops_Partner_Contact__c"] == "Bea Seller <bea@beta.example> (Beta Cloud)"
    assert got[accounts[1]]["Ecoops_Partners__c"] == "Beta Cloud"
    assert "Ecoops_Partners__c" not in got[accounts[2]]  # nothing to say: not written at all
    deal = fake.records["Opportunity"]
    assert (deal[deals[1]]["Ecoops_Partner_Class__c"], deal[deals[1]]["Ecoops_Crediting_Partners__c"]) == (
        "Partner-sourced",
        "Acme Partners",
    )
    assert (deal[deals[2]]["Ecoops_Partner_Class__c"], deal[deals[2]]["Ecoops_Crediting_Partners__c"]) == (
        "Partner-influenced",
        "Acme Partners; Beta Cloud",
    )
    assert deal[deals[0]]["Ecoops_Partner_Class__c"] == "Direct"
    assert (deal[deals[1]]["Ecoops_Referral_Id__c"], deal[deals[1]]["Ecoops_Referral_Status__c"]) == (
        str(referral.id),
        "approved",
    )
    # Hand count: accounts 0 and 1 get 3 values each (6); 4 deals get a class (4); deals 1 and 2 their
    # crediting partners (2); deal 1 a referral id and status (2): 14 written. Of 3 x 3 + 4 x 4 = 25 values,
    # 11 are empty and were never written: unchanged, with no request at all.
    assert (run.status, run.written, run.unchanged, run.conflicts, run.failed) == ("done", 14, 11, 0, 0)
    assert fake.collection_calls == [2, 4]  # one call per object: 2 accounts, 4 deals
    assert session.scalar(select(func.count()).select_from(LedgerEntry)) == 14

    before = len(fake.requests)
    again = write(SALESFORCE, sessions, settings)
    assert (again.written, again.unchanged, again.conflicts, again.calls) == (0, 25, 0, 0)
    assert len(fake.requests) == before and fake.collection_calls == [2, 4]  # not even a read


@pytest.mark.all_backends
def test_a_persons_change_is_a_conflict_and_stays(
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    fake: FakeSalesforce,
    key_pair: tuple[str, str],
) -> None:
    accounts, _deals = _org(fake, session, sessions, settings, key_pair[0])
    acme, beta = make_partner(session, name="Acme Partners"), make_partner(session, name="Beta Cloud")
    overlap(session, acme, accounts[0], "Customers")
    overlap(session, acme, accounts[1], "Customers")
    session.commit()
    turn_on(SALESFORCE, session, settings, {"account_partners": "Ecoops_Partners__c"})
    assert write(SALESFORCE, sessions, settings).written == 2

    fake.put("Account", {"Id": accounts[0], "Ecoops_Partners__c": "Acme (per Dana, call first)"})
    fake.put("Account", {"Id": accounts[2], "Ecoops_Partners__c": "typed by a person"})
    overlap(session, beta, accounts[0], "Customers")
    overlap(session, beta, accounts[1], "Customers")
    overlap(session, beta, accounts[2], "Customers")
    session.commit()
    run = write(SALESFORCE, sessions, settings)
    got = fake.records["Account"]
    assert got[accounts[0]]["Ecoops_Partners__c"] == "Acme (per Dana, call first)"  # kept
    assert got[accounts[2]]["Ecoops_Partners__c"] == "typed by a person"  # never ours: kept
    assert got[accounts[1]]["Ecoops_Partners__c"] == "Acme Partners; Beta Cloud"
    assert (run.written, run.conflicts, run.failed) == (1, 2, 0)
    assert _items(session, run) == [
        (
            "conflict",
            accounts[0],
            "Ecoops_Partners__c",
            "Acme (per Dana, call first)",
            "Acme Partners; Beta Cloud",
        ),
        ("conflict", accounts[2], "Ecoops_Partners__c", "typed by a person", "Beta Cloud"),
    ]
    last = session.scalar(select(WritebackItem.last_written).where(WritebackItem.record_id == accounts[0]))
    assert last == "Acme Partners"

    # The person sets the value ecoops wants: settled, no write; the conflict is gone.
    fake.put("Account", {"Id": accounts[0], "Ecoops_Partners__c": "Acme Partners; Beta Cloud"})
    calls = list(fake.collection_calls)
    settled = write(SALESFORCE, sessions, settings)
    assert (settled.written, settled.conflicts) == (0, 1) and fake.collection_calls == calls


def test_a_refused_record_fails_alone_and_is_tried_again(
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    fake: FakeSalesforce,
    key_pair: tuple[str, str],
) -> None:
    accounts, _deals = _org(fake, session, sessions, settings, key_pair[0])
    acme = make_partner(session, name="Acme Partners")
    for account in accounts:
        overlap(session, acme, account, "Customers")
    session.commit()
    turn_on(SALESFORCE, session, settings, {"account_partners": "Ecoops_Partners__c"})
    fake.reject(accounts[1], "Partner fields are locked on key accounts")
    fake.delete("Account", accounts[2])

    run = write(SALESFORCE, sessions, settings)
    assert (run.written, run.failed) == (1, 2)
    assert fake.records["Account"][accounts[0]]["Ecoops_Partners__c"] == "Acme Partners"
    assert "Ecoops_Partners__c" not in fake.records["Account"][accounts[1]]
    failures = {i.record_id: i.message for i in session.scalars(select(WritebackItem))}
    assert failures == {
        accounts[1]: "FIELD_CUSTOM_VALIDATION_EXCEPTION: Partner fields are locked on key accounts",
        accounts[2]: "the CRM no longer has this record",
    }
    fake.rejects.clear()
    retried = write(SALESFORCE, sessions, settings)
    assert (retried.written, retried.failed) == (1, 1)
    assert fake.records["Account"][accounts[1]]["Ecoops_Partners__c"] == "Acme Partners"


@pytest.mark.all_backends
def test_a_dry_run_lists_changes_and_writes_nothing(
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    fake: FakeSalesforce,
    key_pair: tuple[str, str],
) -> None:
    accounts, _deals = _org(fake, session, sessions, settings, key_pair[0])
    acme = make_partner(session, name="Acme Partners")
    overlap(session, acme, accounts[0], "Customers")
    overlap(session, acme, accounts[1], "Customers")
    session.commit()
    fake.put("Account", {"Id": accounts[1], "Ecoops_Partners__c": "someone's note"})
    turn_on(SALESFORCE, session, settings, {"account_partners": "Ecoops_Partners__c"})
    before = {k: dict(v) for k, v in fake.records["Account"].items()}

    run = write(SALESFORCE, sessions, settings, dry_run=True)
    assert (run.dry_run, run.written, run.conflicts, run.calls) == (True, 1, 1, 0)
    assert sorted(_items(session, run)) == [
        ("change", accounts[0], "Ecoops_Partners__c", "", "Acme Partners"),
        ("conflict", accounts[1], "Ecoops_Partners__c", "someone's note", "Acme Partners"),
    ]
    assert fake.records["Account"] == before and fake.collection_calls == []
    assert session.scalar(select(func.count()).select_from(LedgerEntry)) == 0


def test_fields_are_checked_against_describe(
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    fake: FakeSalesforce,
    key_pair: tuple[str, str],
) -> None:
    _org(fake, session, sessions, settings, key_pair[0])
    fake.add_field("Account", "Partner_Formula__c", updateable=False)
    fake.add_field("Account", "Partner_Count__c", type="double")
    fake.add_field("Account", "Partner_Pick__c", type="picklist")

    def refused(target: str, crm_field: str) -> str:
        with pytest.raises(InvalidInput) as caught:
            provider.set_field(
                session, ADMIN, settings, SALESFORCE, target=target, crm_field=crm_field, enabled=True
            )
        return str(caught.value)

    assert "Account has no field Ecoops_Missing__c: create it in Salesforce" in refused(
        "account_partners", "Ecoops_Missing__c"
    )
    assert "Account.Partner_Formula__c cannot be written by the integration user" in refused(
        "account_partners", "Partner_Formula__c"
    )
    assert (
        "Account.Partner_Count__c is a double field; Overlapping partners needs Text, Text Area"
        in refused("account_partners", "Partner_Count__c")
    )
    # a picklist holds a class or a status, not a list of names
    assert "is a Picklist field" in refused("account_partners", "Partner_Pick__c")
    assert "not a field's API name" in refused("account_partners", "Bad Name'")
    row = provider.set_field(
        session,
        ADMIN,
        settings,
        SALESFORCE,
        target="opportunity_class",
        crm_field="Ecoops_Partner_Class__c",
        enabled=True,
    )
    assert (row.enabled, row.field_length) == (True, 255)
    with pytest.raises(InvalidInput, match="turn write-back on for a field first"):
        session.rollback()
        provider.queue_writeback(session, ADMIN, SALESFORCE, dry_run=False)


def test_batches_of_200_through_429_and_an_expired_token(
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    fake: FakeSalesforce,
    key_pair: tuple[str, str],
) -> None:
    _accounts, deals = _org(fake, session, sessions, settings, key_pair[0], accounts=5, opportunities=450)
    acme = make_partner(session, name="Acme Partners")
    for n, deal in enumerate(deals):
        session.add(
            Referral(
                direction="inbound",
                kind="eql",
                partner_id=acme.id,
                company=f"Deal {n}",
                status="submitted",
                submitted_via="api",
                opportunity_crm_id=deal,
            )
        )
    session.commit()
    turn_on(SALESFORCE, session, settings, {"opportunity_referral_status": "Ecoops_Referral_Status__c"})
    fake.expire_tokens()
    fake.fail_next(429, [{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "slow down"}], retry_after="0")
    run = write(SALESFORCE, sessions, settings)
    assert (run.written, run.failed, run.calls) == (450, 0, 3)
    assert fake.collection_calls == [200, 200, 50]
    assert all(r["Ecoops_Referral_Status__c"] == "submitted" for r in fake.records["Opportunity"].values())
    assert "refresh_token" not in fake.grants[-1:] and len(fake.grants) >= 2  # a new token mid-way


def test_the_command_line_dry_run_then_write(
    tmp_path: Path,
    settings: Settings,
    fake: FakeSalesforce,
    key_pair: tuple[str, str],
) -> None:
    """`ecoops salesforce-writeback` in its own process, on its own SQLite file."""
    url, engine, own = cli_database(tmp_path)
    with own() as cli_session:
        accounts, _deals = _org(fake, cli_session, own, settings, key_pair[0])
        overlap(cli_session, make_partner(cli_session, name="Acme Partners"), accounts[0], "Customers")
        cli_session.commit()
        turn_on(SALESFORCE, cli_session, settings, {"account_partners": "Ecoops_Partners__c"})
    status, said = run_cli("salesforce-writeback", url, settings, "--dry-run")
    assert status == 0 and "1 values would be written" in said, said
    assert "Ecoops_Partners__c" not in fake.records["Account"][accounts[0]]
    fake.put("Account", {"Id": accounts[1], "Ecoops_Partners__c": "a person's"})
    with own() as more:
        overlap(more, make_partner(more, name="Beta Cloud"), accounts[1], "Prospects")
        more.commit()
    status, said = run_cli("salesforce-writeback", url, settings)
    assert status == 1, said  # a conflict: told by the exit status
    assert "1 values written" in said and "1 conflicts" in said
    assert fake.records["Account"][accounts[0]]["Ecoops_Partners__c"] == "Acme Partners"
    engine.dispose()


def test_a_value_longer_than_the_field_is_cut_to_its_length(
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    fake: FakeSalesforce,
    key_pair: tuple[str, str],
) -> None:
    accounts, _deals = _org(fake, session, sessions, settings, key_pair[0])
    fake.add_field("Account", "Short_Partners__c", length=12)
    for name in ("Acme Partners", "Beta Cloud"):  # "Acme Partners; Beta Cloud": 25 characters
        overlap(session, make_partner(session, name=name), accounts[0], "Customers")
    overlap(session, make_partner(session, name="Gamma Labs12"), accounts[1], "Customers")  # exactly 12
    session.commit()
    turn_on(SALESFORCE, session, settings, {"account_partners": "Short_Partners__c"})
    run = write(SALESFORCE, sessions, settings)
    assert (run.written, run.failed) == (2, 0)  # the server refuses STRING_TOO_LONG: none was sent
    assert fake.records["Account"][accounts[0]]["Short_Partners__c"] == "Acme Partne…"
    assert fake.records["Account"][accounts[1]]["Short_Partners__c"] == "Gamma Labs12"
    assert write(SALESFORCE, sessions, settings).calls == 0  # the cut value is what the ledger holds
