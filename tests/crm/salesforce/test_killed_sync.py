"""A sync process killed with SIGKILL five times at different points, then run to the end: every record
is stored once, none is lost, and the runs' counts add up to the org's records exactly (a batch's records,
its counts and its checkpoint are committed together or not at all). On SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from ecoops.config import Settings
from ecoops.crm.models import Account, Opportunity, OpportunityStageChange
from ecoops.crm.salesforce.models import SyncRun
from ecoops.db import make_engine, migrate
from tests.conftest import fresh_postgres_database
from tests.crm.salesforce.conftest import connect
from tests.crm.salesforce_server import FakeSalesforce, seed_org

KILLS = 5


def _database(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'killed.db'}"
    return fresh_postgres_database(request.getfixturevalue("postgres_admin_url"))


def _start(url: str, settings: Settings) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "ECOOPS_ENV": "test",
        "ECOOPS_DATABASE_URL": url,
        "ECOOPS_SECRET_KEY": settings.secret_key,
        "ECOOPS_CRM_CA_BUNDLE": settings.crm_ca_bundle,
        "ECOOPS_CRM_SYNC_BATCH_RECORDS": "20",
        "ECOOPS_VAR_DIR": str(settings.var_dir),
    }
    command = [sys.executable, "-m", "ecoops.cli", "salesforce-sync"]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _wait_for_pages(fake: FakeSalesforce, pages: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while fake.pages_served < pages and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)


@pytest.mark.all_backends
def test_a_sync_killed_five_times_finishes_with_nothing_duplicated_or_lost(
    backend: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    settings: Settings,
    fake: FakeSalesforce,
    key_pair: tuple[str, str],
) -> None:
    seed_org(fake, accounts=30, opportunities=150)
    fake.page_size, fake.page_delay = 10, 0.02
    url = _database(backend, tmp_path, request)
    engine: Engine = make_engine(url)
    migrate(engine)
    with Session(engine) as session:
        connect(session, settings, fake, key_pair[0])
    kills = 0
    for kill in range(KILLS):
        process = _start(url, settings)
        _wait_for_pages(fake, fake.pages_served + 7 + 5 * kill, process)  # a little further each time
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
    last = _start(url, settings)
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
