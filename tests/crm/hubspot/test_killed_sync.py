"""A HubSpot sync process killed with SIGKILL five times at different points, then run to the end: every
record is stored once, none is lost, and the runs' counts add up to the portal's records exactly (a
batch's deals, their stage history, the counts and the checkpoint commit together). On SQLite and
PostgreSQL; the machinery is the Salesforce test's (tests/crm/killed_sync.py)."""

from __future__ import annotations

import os
import signal
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecoops.config import Settings
from ecoops.crm.connections.models import SyncRun
from ecoops.crm.models import Account, Opportunity, OpportunityStageChange
from ecoops.db import make_engine, migrate
from tests.crm.hubspot.conftest import connect
from tests.crm.hubspot_server import FakeHubSpot, seed_portal
from tests.crm.killed_sync import KILLS, database, start, wait_for_pages


@pytest.mark.all_backends
def test_a_sync_killed_five_times_finishes_with_nothing_duplicated_or_lost(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, settings: Settings, fake: FakeHubSpot
) -> None:
    seed_portal(fake, companies=30, deals=150)
    fake.delay = 0.02
    url = database(backend, tmp_path, request)
    engine = make_engine(url)
    migrate(engine)
    with Session(engine) as session:
        connect(session, settings, fake)
    here = {"ECOOPS_HUBSPOT_API_URL": fake.url}
    kills = 0
    for kill in range(KILLS):
        process = start("hubspot-sync", url, settings, **here)
        further = len(fake.requests) + 12 + 3 * kill  # a little further each time
        wait_for_pages(lambda: len(fake.requests), further, process)
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            kills += 1
        process.wait()
        if kill == 2:  # the portal moves on meanwhile: one deal changes, one is archived
            deals = list(fake.records["deals"])
            changed, archived = deals[0], deals[1]
            fake.put("deals", {"amount": "99", "dealstage": "closedwon"}, record_id=changed)
            fake.archive("deals", archived)
    assert kills == KILLS, "the sync finished before it was killed: slow the fake down"
    last = start("hubspot-sync", url, settings, **here)
    output = last.communicate(timeout=300)[0].decode()
    assert last.returncode == 0, output

    live = {i for i, r in fake.records["deals"].items() if not r["archived"]}
    with Session(engine) as session:
        stored = {
            row[0]: row[1] for row in session.execute(select(Opportunity.crm_id, Opportunity.original_amount))
        }
        assert set(stored) == live and len(live) == 149
        assert stored[changed] == Decimal("99.00")
        assert session.scalar(select(func.count()).select_from(Account)) == 30
        entries = session.execute(
            select(OpportunityStageChange.opportunity_crm_id, OpportunityStageChange.stage)
        ).all()
        labels = {"appointmentscheduled": "Appointment Scheduled", "contractsent": "Contract Sent"}
        labels |= {"closedwon": "Closed Won (Sales Pipeline)", "closedlost": "Closed Lost"}
        expected = [(d, labels[stage]) for d in live for stage, _when in fake.history[d]]
        assert sorted(entries) == sorted(expected)
        runs = session.scalars(select(SyncRun).order_by(SyncRun.id)).all()
        assert [r.status for r in runs] == ["stopped"] * KILLS + ["done"]
        # Every company and deal counted new exactly once over all the runs, killed ones included.
        assert sum(r.objects.get("companies", {}).get("new", 0) for r in runs) == 30
        assert sum(r.objects.get("deals", {}).get("new", 0) for r in runs) == 150
        assert sum(r.objects.get("deals archived", {}).get("deleted", 0) for r in runs) == 1
    engine.dispose()
