"""The sync through the real simple-salesforce client against the local Salesforce, on both backends:
first load, incremental with overlap, deletions, stage map, currencies, and the API's faults."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ecoops.config import Settings
from ecoops.crm.connections import service as shared
from ecoops.crm.connections.models import CrmConnection, StageMapping, SyncCheckpoint, SyncRun
from ecoops.crm.connections.secrets import unseal
from ecoops.crm.models import Account, ImportRejection, Opportunity, OpportunityStageChange
from ecoops.crm.salesforce.client import SalesforceUnavailable
from ecoops.crm.salesforce.sync import SalesforceSync
from tests.crm.salesforce.conftest import ADMIN, check_seeded_deals, connect
from tests.crm.salesforce_server import FakeSalesforce, seed_org


def _sync(sessions: sessionmaker[Session], settings: Settings) -> SyncRun:
    return SalesforceSync(sessions, settings, ADMIN, trigger="cli", api=None).run()


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.all_backends
def test_first_sync_then_incremental_with_overlap_and_deletions(
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    fake: FakeSalesforce,
    key_pair: tuple[str, str],
) -> None:
    seed_org(fake, accounts=3, opportunities=10)
    fake.page_size = 4  # 10 opportunities: pages of 4, 4, 2 through nextRecordsUrl
    connect(session, settings, fake, key_pair[0])
    stored = session.scalar(select(CrmConnection))
    assert stored is not None and stored.org_id == "00D000000000001EAA" and stored.instance_url == fake.url
    assert (
        "PRIVATE KEY" not in stored.private_key
        and unseal(settings, stored.private_key) == key_pair[0].strip()
    )

    told: list[tuple[str, int, int]] = []
    sync = SalesforceSync(
        sessions, settings, ADMIN, trigger="cli", progress=lambda *report: told.append(report)
    )
    run = sync.run()
    assert (run.status, run.new, run.updated, run.deleted, run.rejected) == ("done", 3 + 10 + 17, 0, 0, 0)
    assert ("Opportunity: 10 of 10 records", 10, 10) in told and (
        "Account: reading from the start",
        0,
        0,
    ) in told
    # 10 opportunities: 1 history row each, plus a second for the 7 not in Prospecting (n % 4 != 0)
    assert run.objects["OpportunityHistory"]["new"] == 17
    assert any("/query/" in path for path in fake.requests)  # paged to the end
    deal0, won = check_seeded_deals(session)
    account = session.scalar(select(Account).where(Account.name == "Account 1"))
    assert account is not None and account.domain == "account1.com" and account.employees == 11

    # Nothing changed: the overlap re-reads the last records and writes nothing.
    again = _sync(sessions, settings)
    assert (again.new, again.updated, again.deleted) == (0, 0, 0)
    assert again.records > 0  # the overlap window was read again

    # One change, one deletion (queryAll gives it IsDeleted), one new opportunity.
    won_id = won.crm_id
    fake.put("Opportunity", {"Id": deal0.crm_id, "StageName": "Negotiation"})
    fake.delete("Opportunity", won_id)
    fake.put(
        "Opportunity",
        {"Name": "Deal new", "StageName": "Prospecting", "Amount": 5.0, "CurrencyIsoCode": "USD"},
    )
    third = _sync(sessions, settings)
    assert (third.objects["Opportunity"]["new"], third.objects["Opportunity"]["updated"]) == (1, 1)
    assert third.deleted == 1
    session.expire_all()
    assert session.scalar(select(Opportunity).where(Opportunity.crm_id == won_id)) is None
    assert _count(session, OpportunityStageChange) == 17 - 2  # the deleted deal's history went with it
    assert _count(session, Opportunity) == 10
    checkpoint = session.scalar(select(SyncCheckpoint).where(SyncCheckpoint.object_name == "Opportunity"))
    assert checkpoint is not None and checkpoint.modstamp is not None


@pytest.mark.all_backends
def test_the_stage_map_comes_from_the_crm_and_an_edit_stands(
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    fake: FakeSalesforce,
    key_pair: tuple[str, str],
) -> None:

    seed_org(fake, accounts=1, opportunities=4)
    connect(session, settings, fake, key_pair[0])
    _sync(sessions, settings)
    stages = {m.stage: (m.is_closed, m.is_won) for m in session.scalars(select(StageMapping))}
    assert stages == {
        "Prospecting": (False, False),
        "Negotiation": (False, False),
        "Closed Won": (True, True),
        "Closed Lost": (True, False),
    }
    negotiation = session.scalar(select(StageMapping).where(StageMapping.stage == "Negotiation"))
    assert negotiation is not None
    shared.set_stage(session, ADMIN, "salesforce", negotiation.id, is_closed=True, is_won=True)
    session.commit()
    deal = session.scalar(select(Opportunity).where(Opportunity.stage == "Negotiation"))
    assert deal is not None and not deal.is_won
    fake.put("Opportunity", {"Id": deal.crm_id, "Amount": 7.0})  # touched: read again under the edited map
    run = _sync(sessions, settings)
    session.expire_all()
    assert run.objects["Opportunity"]["updated"] == 1
    assert (deal.is_closed, deal.is_won) == (True, True)
    kept = session.scalar(select(StageMapping).where(StageMapping.stage == "Negotiation"))
    assert kept is not None and kept.is_won and not kept.crm_is_won and kept.edited_by == ADMIN.label


@pytest.mark.all_backends
def test_faults_429_500_expired_token_and_a_record_deleted_between_pages(
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    fake: FakeSalesforce,
    key_pair: tuple[str, str],
) -> None:
    seed_org(fake, accounts=2, opportunities=12)
    fake.page_size = 5
    connect(session, settings, fake, key_pair[0])
    fake.fail_next(429, [{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "slow down"}], retry_after="0")
    fake.fail_next(500, [{"errorCode": "UNKNOWN_EXCEPTION", "message": "oops"}])
    victim = next(iter(fake.records["Opportunity"]))

    def between_pages(served: int) -> None:
        if served == 8:  # the second page of deals (after describes, counts, accounts and the first)
            fake.expire_tokens()
            fake.delete("Opportunity", victim)

    fake.on_page = between_pages
    run = _sync(sessions, settings)
    # 2 accounts, 12 deals (the victim's cursor was made before its deletion), 12 + 9 history rows
    # less the victim's one (deleted with it before the history was read)
    assert run.status == "done" and run.new == 2 + 12 + 11 + 9
    assert fake.grants.count("urn:ietf:params:oauth:grant-type:jwt-bearer") >= 2  # connect, sync, after 401
    fake.on_page = None
    # The cursor was made before the deletion: the deal arrived; the next run removes it.
    second = _sync(sessions, settings)
    assert second.deleted == 1
    session.expire_all()
    assert session.scalar(select(Opportunity).where(Opportunity.crm_id == victim)) is None
    stored = session.scalar(select(CrmConnection))
    assert stored is not None and stored.api_used == fake.api_used and stored.api_max == 100_000


def test_the_request_limit_without_a_wait_stops_the_sync_and_keeps_checkpoints(
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    fake: FakeSalesforce,
    key_pair: tuple[str, str],
) -> None:
    seed_org(fake, accounts=2, opportunities=2)
    connect(session, settings, fake, key_pair[0])
    _sync(sessions, settings)
    fake.fail_next(403, [{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "TotalRequests Limit exceeded."}])
    with pytest.raises(SalesforceUnavailable, match="REQUEST_LIMIT_EXCEEDED"):
        _sync(sessions, settings)
    failed = session.scalar(select(SyncRun).order_by(SyncRun.id.desc()))
    assert failed is not None and failed.status == "failed" and "REQUEST_LIMIT_EXCEEDED" in failed.error
    assert _count(session, SyncCheckpoint) == 3


def test_a_refused_record_refuses_its_batch_and_stops_the_object(
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    fake: FakeSalesforce,
    key_pair: tuple[str, str],
) -> None:
    seed_org(fake, accounts=1, opportunities=3)
    yen = fake.put(
        "Opportunity",
        {"Name": "Yen deal", "StageName": "Prospecting", "Amount": 5.0, "CurrencyIsoCode": "JPY"},
    )
    connect(session, settings, fake, key_pair[0])
    run = _sync(sessions, settings)
    assert run.status == "rejected" and run.objects["Opportunity"]["rejected"] == 1
    assert _count(session, Opportunity) == 0  # all or nothing: the batch held the three good ones too
    assert session.scalar(select(SyncCheckpoint).where(SyncCheckpoint.object_name == "Opportunity")) is None
    problems = {p.field: p for p in session.scalars(select(ImportRejection))}
    # JPY is no active CurrencyType in the org: no rate, so no amount in the workspace currency
    assert problems["Id"].value == yen and problems["Id"].line == problems["Amount"].line == 4
    assert "the amount is in JPY, not the workspace currency USD" in problems["Amount"].message


@pytest.mark.all_backends
def test_opportunity_partner_gives_the_partner_source_when_the_org_has_no_partner_field(
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    fake: FakeSalesforce,
    key_pair: tuple[str, str],
) -> None:
    fake.describe["Opportunity"].remove("PartnerAccountId")
    seed_org(fake, accounts=3, opportunities=3)
    deals, accounts = list(fake.records["Opportunity"]), list(fake.records["Account"])
    primary = fake.put(
        "OpportunityPartner", {"OpportunityId": deals[0], "AccountToId": accounts[1], "IsPrimary": True}
    )
    fake.put(
        "OpportunityPartner", {"OpportunityId": deals[1], "AccountToId": accounts[2], "IsPrimary": False}
    )
    connect(session, settings, fake, key_pair[0])
    run = _sync(sessions, settings)
    sources = {
        row[0]: row[1] for row in session.execute(select(Opportunity.crm_id, Opportunity.partner_source))
    }
    assert sources == {deals[0]: accounts[1], deals[1]: "", deals[2]: ""}  # only the primary partner
    assert run.objects["OpportunityPartner"]["updated"] == 1
    fake.put("OpportunityPartner", {"Id": primary, "IsPrimary": False})  # no longer primary: cleared
    second = _sync(sessions, settings)
    session.expire_all()
    assert session.scalar(select(Opportunity.partner_source).where(Opportunity.crm_id == deals[0])) == ""
    assert second.objects["OpportunityPartner"]["updated"] == 1


def test_the_query_asks_from_the_checkpoint_less_the_overlap_in_utc(settings: Settings) -> None:
    from datetime import UTC, datetime, timedelta, timezone

    from ecoops.crm.imports.fields import Kind
    from ecoops.crm.imports.formats import SALESFORCE_API, Mapping
    from ecoops.crm.salesforce.sync import OBJECTS, Plan

    plan = Plan(OBJECTS[0], ["Id", "Name"], Mapping(Kind.ACCOUNTS, SALESFORCE_API, {"crm_id": "Id"}))
    paris = timezone(timedelta(hours=1))
    assert (
        plan.soql(None)
        == "SELECT Id, Name, IsDeleted, SystemModstamp FROM Account ORDER BY SystemModstamp, Id"
    )
    for since in (
        datetime(2026, 1, 5, 10, 0, 0, tzinfo=paris),
        datetime(2026, 1, 5, 9, 0, 0),
        datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
    ):
        assert " WHERE SystemModstamp >= 2026-01-05T09:00:00Z ORDER BY" in plan.soql(since)


def test_a_page_that_does_not_answer_in_time_is_asked_for_again(
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    fake: FakeSalesforce,
    key_pair: tuple[str, str],
) -> None:
    seed_org(fake, accounts=2, opportunities=6)
    fake.page_size = 4
    connect(session, settings, fake, key_pair[0])
    hung: list[int] = []

    def hang_once(served: int) -> None:
        if not hung:
            hung.append(served)
            time.sleep(1.5)  # past the client's time-out: this answer is never read

    fake.on_page = hang_once
    quick = settings.model_copy(update={"crm_timeout_seconds": 0.5})
    run = SalesforceSync(sessions, quick, ADMIN, trigger="cli").run()
    assert hung and run.status == "done" and run.new == 2 + 6 + 6 + 4
    assert _count(session, Opportunity) == 6


def test_a_field_removed_from_the_schema_is_left_out_and_its_values_kept(
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    fake: FakeSalesforce,
    key_pair: tuple[str, str],
) -> None:
    seed_org(fake, accounts=2, opportunities=1)
    for record in fake.records["Account"].values():
        record["Industry"] = "Software"
    connect(session, settings, fake, key_pair[0])
    _sync(sessions, settings)
    fake.describe["Account"].remove("Industry")  # an admin deleted the field: querying it would fail
    first = next(iter(fake.records["Account"]))
    fake.put("Account", {"Id": first, "Name": "Renamed"})
    run = _sync(sessions, settings)
    assert run.status == "done" and run.objects["Account"]["updated"] == 1
    session.expire_all()
    renamed = session.scalar(select(Account).where(Account.crm_id == first))
    assert renamed is not None and (renamed.name, renamed.industry) == ("Renamed", "Software")


def test_a_currency_at_par_with_the_workspace_one_is_still_converted(
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    fake: FakeSalesforce,
    key_pair: tuple[str, str],
) -> None:
    """A rate of exactly 1 is not the workspace currency: the deal gets its converted amount (else it
    would be refused as an amount in another currency without one)."""
    seed_org(fake, accounts=1, opportunities=1)
    fake.put(
        "CurrencyType", {"IsoCode": "CHF", "ConversionRate": 1.0, "IsCorporate": False, "IsActive": True}
    )
    account = next(iter(fake.records["Account"]))
    at_par = fake.put(
        "Opportunity",
        {
            "AccountId": account,
            "Name": "Par",
            "StageName": "Prospecting",
            "Amount": 300.0,
            "CurrencyIsoCode": "CHF",
        },
    )
    connect(session, settings, fake, key_pair[0])
    assert _sync(sessions, settings).status == "done"
    stored = session.scalar(select(Opportunity).where(Opportunity.crm_id == at_par))
    assert stored is not None and (stored.currency, stored.amount) == ("CHF", Decimal("300.00"))
