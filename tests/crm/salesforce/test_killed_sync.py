"""A sync process killed with SIGKILL five times at different points, then run to the end: every record
is stored once, none is lost, and the runs' counts add up to the org's records exactly (a batch's records,
its counts and its checkpoint are committed together or not at all). On SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from ecoops.config import Settings
from ecoops.crm.connections.models import SyncRun
from ecoops.crm.models import Account, Opportunity, OpportunityStageChange
from ecoops.db import make_engine, migrate
from tests.crm.killed_sync import KILLS, database, start, wait_for_pages
from tests.crm.salesforce.conftest import connect
from tests.crm.salesforce_server import FakeSalesforce, seed_org


@pytest.mark.all_backends
@pytest.mark.parametrize("bulk", [False, True], ids=["rest", "bulk"])
def test_a_sync_killed_five_times_finishes_with_nothing_duplicated_or_lost(
    bulk: bool,
    backend: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    settings: Settings,
    fake: FakeSalesforce,
    key_pair: tuple[str, str],
) -> None:
    seed_org(fake, accounts=30, opportunities=150)
    fake.page_size, fake.page_delay = 10, 0.02
    url = database(backend, tmp_path, request)
    engine: Engine = make_engine(url)
    migrate(engine)
    with Session(engine) as session:
        connect(session, settings, fake, key_pair[0])
    ca = {"ECOOPS_CRM_CA_BUNDLE": settings.crm_ca_bundle}
    if bulk:  # every object by Bulk API jobs, a chunk of 20 records a batch
        ca["ECOOPS_CRM_BULK_THRESHOLD_RECORDS"] = "1"
    kills = 0
    for kill in range(KILLS):
        process = start("salesforce-sync", url, settings, **ca)
        wait_for_pages(
            lambda: fake.pages_served, fake.pages_served + 7 + 5 * kill, process
        )  # a little further each time
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            kills += 1
        process.wait()
        if kill == 2:  # the org moves on meanwhile: one deal changes, one is deleted
            changed = next(iter(fake.records["Opportunity"]))
            fake.put("Opportunity", {"Id": changed, "Amount": 99.0, "CurrencyIsoCode": "USD"})
            deleted = list(fake.records["Opportunity"])[1]
            fake.delete("Opportunity", deleted)
    assert kills == KILLS, "the sync finished before it was killed: give it more pages"
    assert bool(fake.jobs) == bulk
    last = start("salesforce-sync", url, settings, **ca)
    output = last.communicate(timeout=300)[0].decode()
    assert last.returncode == 0, output

    live = {i: r for i, r in fake.records["Opportunity"].items() if not r["IsDeleted"]}
    history = [r for r in fake.records["OpportunityHistory"].values() if not r["IsDeleted"]]
    with Session(engine) as session:
        stored = {
            row[0]: row[1] for row in session.execute(select(Opportunity.crm_id, Opportunity.original_amount))
        }
        assert set(stored) == set(live) and len(live) == 149
        assert stored[changed] == Decimal("99.00")
        assert session.scalar(select(func.count()).select_from(Account)) == 30
        entries = session.execute(
            select(OpportunityStageChange.opportunity_crm_id, OpportunityStageChange.stage)
        ).all()
        assert sorted(entries) == sorted((r["OpportunityId"], r["StageName"]) for r in history)
        runs = session.scalars(select(SyncRun).order_by(SyncRun.id)).all()
        assert [r.status for r in runs] == ["stopped"] * KILLS + ["done"]
        # Every account and deal counted new exactly once over all the runs, killed ones included.
        assert sum(r.objects.get("Account", {}).get("new", 0) for r in runs) == 30
        assert sum(r.objects.get("Opportunity", {}).get("new", 0) for r in runs) == 150
    engine.dispose()
