"""Bulk API 2.0 query jobs for large reads, through the real simple-salesforce client against the local
Salesforce, on both backends: a first load (`query`: deleted records left out) in CSV chunks paged by
`Sforce-Locator`, an incremental read above the threshold (`queryAll`: a deletion removed), and the
faults: a failed job, a 429 on the results, a token that expires mid-job."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ecoops.config import Settings
from ecoops.crm.connections.models import SyncCheckpoint, SyncRun
from ecoops.crm.imports.fields import Kind
from ecoops.crm.imports.formats import SALESFORCE_API, Mapping
from ecoops.crm.models import Account, Opportunity, OpportunityStageChange
from ecoops.crm.salesforce.client import SalesforceJobFailed, SalesforceUnavailable
from ecoops.crm.salesforce.sync import Plan, SalesforceSync, SyncedObject, _csv_rows
from tests.crm.salesforce.conftest import ADMIN, check_seeded_deals, connect
from tests.crm.salesforce_server import FakeSalesforce, seed_org


@pytest.fixture
def bulk(settings: Settings) -> Settings:
    """Every read of 5 records or more by a Bulk API job, in chunks of 4 records."""
    return settings.model_copy(update={"crm_bulk_threshold_records": 5, "crm_sync_batch_records": 4})


@pytest.fixture
def connected(session: Session, bulk: Settings, fake: FakeSalesforce, key_pair: tuple[str, str]) -> None:
    """The local Salesforce, connected (its records are seeded by each test)."""
    connect(session, bulk, fake, key_pair[0])


def _sync(sessions: sessionmaker[Session], settings: Settings) -> SyncRun:
    return SalesforceSync(sessions, settings, ADMIN, trigger="cli").run()


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _jobs(fake: FakeSalesforce) -> list[tuple[str, str]]:
    return [(job.object_name, job.operation) for job in fake.jobs.values()]


@pytest.mark.all_backends
@pytest.mark.usefixtures("connected")
def test_a_large_first_load_by_bulk_jobs_then_an_incremental_queryall(
    session: Session,
    sessions: sessionmaker[Session],
    bulk: Settings,
    fake: FakeSalesforce,
) -> None:
    seed_org(fake, accounts=3, opportunities=10)
    gone_before = list(fake.records["Opportunity"])[9]
    fake.delete("Opportunity", gone_before)  # in the recycle bin before the first load: never read

    run = _sync(sessions, bulk)
    # Accounts (3) are under the threshold: REST. 9 live deals and their 9 + 6 history rows: Bulk.
    assert _jobs(fake) == [("Opportunity", "query"), ("OpportunityHistory", "query")]
    assert all("ORDER BY" not in soql for soql, *_ in fake.csv_kept)
    assert (run.status, run.new, run.deleted) == ("done", 3 + 9 + 15, 0)
    assert run.objects["Opportunity"]["records"] == 9
    results = [p for p in fake.requests if p.endswith("/results")]
    assert len(results) == 3 + 4  # 9 deals in chunks of 4, 4, 1; 15 history rows in 4, 4, 4, 3
    check_seeded_deals(session)  # amounts, currencies, owners and stage flags as through REST
    assert session.scalar(select(Opportunity).where(Opportunity.crm_id == gone_before)) is None
    # The checkpoint is the newest SystemModstamp read, stored with the last chunk.
    newest = max(r["SystemModstamp"] for r in fake.records["Opportunity"].values() if not r["IsDeleted"])
    stored = session.scalar(
        select(SyncCheckpoint.modstamp).where(SyncCheckpoint.object_name == "Opportunity")
    )
    assert stored is not None and stored.strftime("%Y-%m-%dT%H:%M:%S") == newest[:19]

    # Incremental: the overlap window re-reads every deal (above the threshold: Bulk, queryAll).
    changed, deleted = list(fake.records["Opportunity"])[:2]
    fake.put("Opportunity", {"Id": changed, "Amount": 77.0, "CurrencyIsoCode": "USD"})
    fake.delete("Opportunity", deleted)
    again = _sync(sessions, bulk)
    assert ("Opportunity", "queryAll") in _jobs(fake)[2:]
    assert (again.status, again.new, again.updated, again.deleted) == ("done", 0, 1, 1)
    session.expire_all()
    assert session.scalar(select(Opportunity.original_amount).where(Opportunity.crm_id == changed)) == 77
    assert session.scalar(select(Opportunity).where(Opportunity.crm_id == deleted)) is None
    assert _count(session, Opportunity) == 8 and _count(session, Account) == 3


@pytest.mark.all_backends
@pytest.mark.usefixtures("connected")
def test_a_failed_job_fails_the_run_and_keeps_the_checkpoint(
    session: Session,
    sessions: sessionmaker[Session],
    bulk: Settings,
    fake: FakeSalesforce,
) -> None:
    seed_org(fake, accounts=6, opportunities=6)
    fake.fail_jobs = "InvalidBatch : Failed to process query: FUNCTIONALITY_NOT_ENABLED"
    with pytest.raises(SalesforceJobFailed, match="FUNCTIONALITY_NOT_ENABLED"):
        _sync(sessions, bulk)
    run = session.scalar(select(SyncRun))
    assert run is not None and run.status == "failed" and "Bulk API query job" in run.error
    assert _count(session, Account) == 0 and _count(session, SyncCheckpoint) == 0
    fake.fail_jobs = ""
    assert _sync(sessions, bulk).status == "done"
    assert _count(session, Account) == 6 and _count(session, Opportunity) == 6


@pytest.mark.all_backends
@pytest.mark.usefixtures("connected")
def test_a_429_on_the_results_and_a_token_expired_mid_job(
    session: Session,
    sessions: sessionmaker[Session],
    bulk: Settings,
    fake: FakeSalesforce,
) -> None:
    seed_org(fake, accounts=10, opportunities=10)
    fake.fail_next(
        429, [{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "slow"}], retry_after="0", on="/results"
    )
    chunks: list[int] = []

    def mid_job(served: int) -> None:
        chunks.append(served)
        if len(chunks) == 2:  # the second chunk of accounts: every token issued so far stops working
            fake.expire_tokens()

    fake.on_page = mid_job
    sync = SalesforceSync(sessions, bulk, ADMIN, trigger="cli")
    run = sync.run()
    assert run.status == "done" and run.new == 10 + 10 + 17
    assert sync.api.waits[:1] == [0.0]  # the 429's Retry-After
    assert fake.grants.count("urn:ietf:params:oauth:grant-type:jwt-bearer") >= 3  # connect, sync, after 401
    assert len(fake.jobs) == 3  # one job each: the expired token did not start the read again
    assert _count(session, OpportunityStageChange) == 17


@pytest.mark.all_backends
@pytest.mark.usefixtures("connected")
def test_a_first_load_stopped_mid_job_is_taken_up_by_queryall(
    session: Session,
    sessions: sessionmaker[Session],
    bulk: Settings,
    fake: FakeSalesforce,
) -> None:
    """A first load stopped after some chunks has stored records without a checkpoint stamp; one of them
    deleted since must still go, so the next job is queryAll (a `query` would never show it)."""
    seed_org(fake, accounts=2, opportunities=10)
    down = [{"errorCode": "UNKNOWN_EXCEPTION", "message": "down"}]

    def after_the_first_chunk(_served: int) -> None:  # every try of the next chunk fails
        fake.fail_next(500, down, times=bulk.crm_max_attempts, on="/results")
        fake.on_page = None

    fake.on_page = after_the_first_chunk
    with pytest.raises(SalesforceUnavailable):
        _sync(sessions, bulk)
    stored = list(session.scalars(select(Opportunity.crm_id)))
    assert len(stored) == 4  # the first chunk, committed
    stamp = select(SyncCheckpoint.modstamp).where(SyncCheckpoint.object_name == "Opportunity")
    assert session.scalar(stamp) is None  # begun, no stamp yet
    fake.delete("Opportunity", stored[0])
    run = _sync(sessions, bulk)
    assert _jobs(fake)[-2:] == [("Opportunity", "queryAll"), ("OpportunityHistory", "query")]
    assert (run.status, run.deleted) == ("done", 1)
    session.expire_all()
    live = {i for i, r in fake.records["Opportunity"].items() if not r["IsDeleted"]}
    assert set(session.scalars(select(Opportunity.crm_id))) == live and len(live) == 9


@pytest.mark.parametrize(
    "text",
    [
        '"Id","Name","Amount"\n"1","Acme","10.5"\n"2","",""\n',
        '"Id","Name","Amount"\n"1","say ""hi""","1"\n"2","b","2"\n',  # a quote in a value
        '"Id","Name","Amount"\n"1","two\nlines","1"\n',  # a line break in a value
        '"Id","Name","Amount"\n"1","a"",""b","1"\n',  # a quoted separator
        '"Id","Name","Amount"\n',  # no records
    ],
)
def test_bulk_csv_read_as_the_csv_module_reads_it(text: str) -> None:
    assert _csv_rows(text, 3) == list(csv.reader(io.StringIO(text)))


def test_a_field_read_for_two_columns_is_asked_once_and_picked_twice() -> None:
    """A Bulk job's CSV has each field once; a header naming one twice (a field mapped to two ecoops
    fields) picks that column twice, and a header in the CSV's own order is a slice of it."""
    spec = SyncedObject("Account", Kind.ACCOUNTS, {})
    twice = Plan(spec, ["Id", "Name", "Name"], Mapping(Kind.ACCOUNTS, SALESFORCE_API, {}))
    assert twice.fields == ["Id", "Name", "IsDeleted", "SystemModstamp"] and twice.picks == [0, 1, 1]
    plain = Plan(spec, ["Id", "Name"], Mapping(Kind.ACCOUNTS, SALESFORCE_API, {}))
    assert plain.picks is None
