"""The HubSpot sync through the real hubspot-api-client against the local HubSpot: first load,
incremental with overlap, archived records, the stage map from the pipelines, owners, associations,
the partner property, and the API's faults (429, 500, an expired OAuth token, a property removed)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ecoops.config import Settings
from ecoops.crm.connections import service as shared
from ecoops.crm.connections.models import CrmConnection, StageMapping, SyncCheckpoint, SyncRun
from ecoops.crm.connections.secrets import unseal
from ecoops.crm.hubspot.sync import HubSpotSync
from ecoops.crm.models import Account, Opportunity, OpportunityStageChange
from tests.crm.hubspot.conftest import ADMIN, connect
from tests.crm.hubspot_server import HUB_ID, FakeHubSpot, seed_portal


def _sync(sessions: sessionmaker[Session], settings: Settings) -> SyncRun:
    return HubSpotSync(sessions, settings, ADMIN, trigger="cli").run()


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.all_backends
def test_first_sync_reads_every_object_as_a_hubspot_export_would_hold_it(
    session: Session, sessions: sessionmaker[Session], settings: Settings, fake: FakeHubSpot
) -> None:
    seed_portal(fake, companies=3, deals=8)
    connect(session, settings, fake)
    stored = session.scalar(select(CrmConnection))
    assert stored is not None and stored.org_id == str(HUB_ID) and "crm.objects.deals.read" in stored.scopes
    assert fake.private_token not in stored.access_token
    assert unseal(settings, stored.access_token) == fake.private_token

    run = _sync(sessions, settings)
    # 3 companies + 8 deals + their stage entries: 8 first stages, and 6 deals moved on once (n % 4 != 0).
    assert (run.status, run.new, run.updated, run.deleted, run.rejected) == ("done", 3 + 8 + 14, 0, 0, 0)
    assert run.objects["deal stage history"]["new"] == 14
    deal = session.scalar(select(Opportunity).where(Opportunity.name == "Deal 2"))
    assert deal is not None
    company = session.scalar(select(Account).where(Account.crm_id == deal.account_crm_id))
    assert company is not None and company.name == "Company 2"
    # Deal 2 went to stage 2 of the default pipeline, "Closed Won": isClosed and probability 1.0.
    assert (deal.stage, deal.is_closed, deal.is_won) == ("Closed Won (Sales Pipeline)", True, True)
    assert deal.original_amount == Decimal("1002.00") and deal.close_date == date(2026, 3, 31)
    assert deal.owner == "Ada Seller"
    first = session.scalar(select(Opportunity).where(Opportunity.name == "Deal 0"))
    assert first is not None and first.owner == "Former Rep"  # a deactivated owner keeps their name
    assert first.partner_source == "Acme Partners"
    lost = session.scalar(select(Opportunity).where(Opportunity.name == "Deal 3"))
    assert lost is not None and (lost.is_closed, lost.is_won) == (True, False)
    entries = session.scalars(
        select(OpportunityStageChange.stage).where(OpportunityStageChange.opportunity_crm_id == deal.crm_id)
    ).all()
    assert sorted(entries) == ["Appointment Scheduled", "Closed Won (Sales Pipeline)"]
    stages = {m.stage: (m.is_closed, m.is_won) for m in session.scalars(select(StageMapping))}
    assert stages["Closed Won (Renewals)"] == (True, True) and stages["Contract Sent"] == (False, False)
    assert stages["Closed Lost"] == (True, False) and len(stages) == 6
    session.expire_all()
    connection = session.scalar(select(CrmConnection))
    assert connection is not None and connection.api_max == 250_000
    assert connection.api_used == fake.daily_used  # from the last answer's Daily-Remaining

    again = _sync(sessions, settings)  # nothing changed: the overlap is read again, nothing written
    assert (again.status, again.new, again.updated) == ("done", 0, 0) and again.records >= 11


@pytest.mark.all_backends
def test_incremental_reads_the_changes_since_the_checkpoint_and_removes_archived_records(
    session: Session, sessions: sessionmaker[Session], settings: Settings, fake: FakeHubSpot
) -> None:
    seed_portal(fake, companies=2, deals=4)
    connect(session, settings, fake)
    _sync(sessions, settings)
    checkpoint = session.scalar(select(SyncCheckpoint).where(SyncCheckpoint.object_name == "deals"))
    assert checkpoint is not None
    fake.clock = fake.clock.replace(hour=12)  # three hours on: past the overlap window
    deals = list(fake.records["deals"])
    fake.put("deals", {"amount": "555", "dealstage": "contractsent"}, record_id=deals[0])
    fake.archive("deals", deals[1])
    fake.archive("companies", list(fake.records["companies"])[1])
    run = _sync(sessions, settings)
    assert (run.status, run.new, run.updated, run.deleted) == ("done", 1, 1, 2)
    # The seeded deals were all stamped within the overlap window of the checkpoint: read again.
    assert run.objects["deals"]["records"] == 3
    assert run.objects["deal stage history"]["new"] == 1
    session.expire_all()
    changed = session.scalar(select(Opportunity).where(Opportunity.crm_id == deals[0]))
    assert (
        changed is not None
        and changed.original_amount == Decimal("555.00")
        and changed.stage == "Contract Sent"
    )
    assert session.scalar(select(Opportunity).where(Opportunity.crm_id == deals[1])) is None
    assert _count(session, Account) == 1
    assert not session.scalars(
        select(OpportunityStageChange).where(OpportunityStageChange.opportunity_crm_id == deals[1])
    ).all()
    fake.clock = fake.clock.replace(hour=15)
    fake.put("deals", {"amount": "556"}, record_id=deals[2])
    last = _sync(sessions, settings)
    # From the checkpoint (deals[0]'s change at 12:00) less 5 minutes: that deal again, and the new change.
    assert (last.objects["deals"]["records"], last.updated, last.new) == (2, 1, 0)


def test_the_stage_map_is_editable_and_the_edit_stands(
    session: Session, sessions: sessionmaker[Session], settings: Settings, fake: FakeHubSpot
) -> None:
    seed_portal(fake, companies=1, deals=4)
    connect(session, settings, fake)
    _sync(sessions, settings)
    sent = session.scalar(select(StageMapping).where(StageMapping.stage == "Contract Sent"))
    assert sent is not None
    shared.set_stage(session, ADMIN, "hubspot", sent.id, is_closed=True, is_won=True)
    session.commit()
    deal = session.scalar(select(Opportunity).where(Opportunity.stage == "Contract Sent"))
    assert deal is not None and not deal.is_won
    fake.put("deals", {"amount": "7"}, record_id=deal.crm_id)
    _sync(sessions, settings)
    session.expire_all()
    assert session.get_one(Opportunity, deal.id).is_won
    sent = session.get_one(StageMapping, sent.id)
    assert (sent.crm_is_closed, sent.is_won, sent.edited_by) == (False, True, ADMIN.label)
