"""The HubSpot API's rules and faults, through the real client against the local HubSpot: 429 with
Retry-After, the per-10-second window, 500 tried a bounded number of times, an expired OAuth token,
a record archived mid-sync, a property removed, the search API's 10,000-result cap, a refused record."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ecoops.config import Settings
from ecoops.crm.connections.models import CrmConnection, SyncCheckpoint, SyncRun
from ecoops.crm.connections.secrets import unseal
from ecoops.crm.hubspot.client import HubSpotUnavailable
from ecoops.crm.hubspot.sync import HubSpotSync
from ecoops.crm.models import ImportRejection, Opportunity, OpportunityStageChange
from tests.crm.hubspot.conftest import ADMIN, connect, connect_oauth
from tests.crm.hubspot_server import FakeHubSpot, seed_portal


def _run(sessions: sessionmaker[Session], settings: Settings) -> tuple[SyncRun, HubSpotSync]:
    sync = HubSpotSync(sessions, settings, ADMIN, trigger="cli")
    return sync.run(), sync


def _deals(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Opportunity)) or 0)


def test_a_429_waits_its_retry_after_and_a_500_is_tried_again(
    session: Session, sessions: sessionmaker[Session], settings: Settings, fake: FakeHubSpot
) -> None:
    seed_portal(fake, companies=2, deals=3)
    connect(session, settings, fake)
    limited = {"status": "error", "message": "You have reached your daily limit.", "errorType": "RATE_LIMIT"}
    fake.fail_next(429, limited, retry_after="1")
    fake.fail_next(500, {"status": "error", "message": "internal error"}, times=2)
    patient = settings.model_copy(update={"crm_max_wait_seconds": 1.5})
    run, sync = _run(sessions, patient)
    assert run.status == "done" and _deals(session) == 3
    # Retry-After for the 429 (attempt 1); 2 and 4 s for the 500s (attempts 2, 3), each capped at 1.5.
    # Four requests in all: urllib3 retrying a 429 by itself would add one and bypass the cap.
    assert sync.api.waits == [1.0, 1.5, 1.5]
    assert fake.requests.count("GET /crm/v3/owners/") == 4 + 1  # 429, 500, 500, 200; then the archived


def test_500s_past_the_attempts_allowed_fail_the_run_keeping_its_checkpoints(
    session: Session, sessions: sessionmaker[Session], settings: Settings, fake: FakeHubSpot
) -> None:
    seed_portal(fake, companies=2, deals=3)
    connect(session, settings, fake)
    fake.fail_next(500, {"status": "error", "message": "internal error"}, times=settings.crm_max_attempts)
    with pytest.raises(HubSpotUnavailable, match="kept failing after 5 attempts: HTTP 500"):
        _run(sessions, settings)
    run = session.scalars(select(SyncRun)).one()
    assert run.status == "failed" and "HTTP 500" in run.error
    fake.fail_next(500, {"status": "error", "message": "internal error"}, times=settings.crm_max_attempts - 1)
    assert _run(sessions, settings)[0].status == "done"  # four failures, then an answer: done


def test_the_ten_second_window_is_waited_out_instead_of_earning_a_429(
    session: Session, sessions: sessionmaker[Session], settings: Settings, fake: FakeHubSpot
) -> None:
    seed_portal(fake, companies=2, deals=3)
    connect(session, settings, fake)
    fake.window_ms, fake.window_max = 300, 4  # four requests each 0.3 s
    fake.window.clear()
    run, sync = _run(sessions, settings.model_copy(update={"crm_max_wait_seconds": 1.0}))
    assert run.status == "done" and _deals(session) == 3
    assert fake.rate_limited == 0 and sync.api.waits  # it paced itself: no 429 served
    assert all(0 < w <= 0.3 for w in sync.api.waits)


def test_a_429_of_the_window_without_retry_after_waits_the_window(
    session: Session, sessions: sessionmaker[Session], settings: Settings, fake: FakeHubSpot
) -> None:
    seed_portal(fake, companies=1, deals=1)
    connect(session, settings, fake)
    fake.fail_next(429, {"status": "error", "policyName": "TEN_SECONDLY_ROLLING", "errorType": "RATE_LIMIT"})
    run, sync = _run(sessions, settings)
    assert run.status == "done" and sync.api.waits[0] == min(10.0, settings.crm_max_wait_seconds)


def test_an_expired_oauth_token_is_refreshed_and_the_request_made_again(
    session: Session, sessions: sessionmaker[Session], settings: Settings, fake: FakeHubSpot
) -> None:
    seed_portal(fake, companies=2, deals=3)
    connect_oauth(session, settings, fake)
    stored = session.scalar(select(CrmConnection))
    assert stored is not None and stored.flow == "oauth" and stored.org_id == "4455667"
    first_refresh = unseal(settings, stored.refresh_token)
    assert first_refresh in fake.refresh_tokens and first_refresh not in stored.refresh_token

    def expire(served: int) -> None:
        if served == 1:
            fake.expire_tokens()  # the access token expires between two search pages

    fake.on_page = expire
    grants_before = len(fake.grants)
    run, _sync = _run(sessions, settings)
    assert run.status == "done" and _deals(session) == 3
    assert fake.grants[grants_before:] == ["refresh_token", "refresh_token"]  # at the start, after the 401
    session.expire_all()
    assert unseal(settings, session.get_one(CrmConnection, stored.id).refresh_token) != first_refresh


def test_a_deal_archived_mid_sync_is_removed_by_the_same_run(
    session: Session, sessions: sessionmaker[Session], settings: Settings, fake: FakeHubSpot
) -> None:
    seed_portal(fake, companies=2, deals=6)
    connect(session, settings, fake)
    deals = list(fake.records["deals"])

    def archive(served: int) -> None:
        if served == 1:  # companies read; before the deals' search: it is gone from the search...
            fake.archive("deals", deals[0])

    fake.on_page = archive
    run, _sync = _run(sessions, settings)
    assert run.status == "done" and _deals(session) == 5
    assert session.scalar(select(Opportunity).where(Opportunity.crm_id == deals[0])) is None


def test_a_deal_archived_between_its_search_and_its_history_is_removed_after(
    session: Session, sessions: sessionmaker[Session], settings: Settings, fake: FakeHubSpot
) -> None:
    seed_portal(fake, companies=2, deals=6)
    connect(session, settings, fake)
    deals = list(fake.records["deals"])
    original = fake.batch_read

    def batch_read(object_name: str, body: dict) -> tuple[int, object]:
        if deals[0] in fake.records["deals"] and not fake.records["deals"][deals[0]]["archived"]:
            fake.archive("deals", deals[0])  # gone before its history is read: a 207 with its error
        return original(object_name, body)

    fake.batch_read = batch_read  # type: ignore[method-assign]
    run, _sync = _run(sessions, settings)
    assert run.status == "done" and _deals(session) == 5 and run.deleted == 1
    assert not session.scalars(
        select(OpportunityStageChange).where(OpportunityStageChange.opportunity_crm_id == deals[0])
    ).all()


def test_a_property_removed_from_the_portal_is_left_out_not_cleared(
    session: Session, sessions: sessionmaker[Session], settings: Settings, fake: FakeHubSpot
) -> None:
    seed_portal(fake, companies=2, deals=3)
    connect(session, settings, fake)
    _run(sessions, settings)
    first = session.scalar(select(Opportunity).where(Opportunity.name == "Deal 0"))
    assert first is not None and first.partner_source == "Acme Partners"
    fake.remove_property("deals", "partner")
    fake.remove_property("companies", "industry")
    fake.put("deals", {"amount": "42"}, record_id=first.crm_id)
    run, _sync = _run(sessions, settings)
    assert run.status == "done" and run.updated == 1
    session.expire_all()
    kept = session.get_one(Opportunity, first.id)
    assert kept.partner_source == "Acme Partners" and str(kept.original_amount) == "42.00"


def test_past_the_search_cap_it_searches_again_from_the_last_time_read(
    session: Session, sessions: sessionmaker[Session], settings: Settings, fake: FakeHubSpot
) -> None:
    seed_portal(fake, companies=2, deals=7)
    connect(session, settings, fake)
    fake.search_cap = 3  # HubSpot's 10,000, made small: pages of 2, at most 3 results a query
    from ecoops.crm.hubspot import sync as module

    module.SEARCH_PAGE, HubSpotSync.search_cap = 2, 3
    try:
        run, _sync = _run(sessions, settings)
    finally:
        module.SEARCH_PAGE, HubSpotSync.search_cap = 200, 10_000
    assert run.status == "done" and _deals(session) == 7


def test_a_refused_deal_refuses_its_batch_with_its_history_and_keeps_the_checkpoint(
    session: Session, sessions: sessionmaker[Session], settings: Settings, fake: FakeHubSpot
) -> None:
    seed_portal(fake, companies=2, deals=3)
    deal = list(fake.records["deals"])[1]
    fake.put("deals", {"amount": "twelve"}, record_id=deal)
    connect(session, settings, fake)
    run, _sync = _run(sessions, settings)
    assert run.status == "rejected" and run.rejected == 1
    assert _deals(session) == 0 and not session.scalars(select(OpportunityStageChange)).all()
    assert session.scalar(select(SyncCheckpoint).where(SyncCheckpoint.object_name == "deals")) is None
    named = session.scalars(select(ImportRejection.value).where(ImportRejection.field == "Id")).all()
    assert named == [deal]
    fake.put("deals", {"amount": "12"}, record_id=deal)
    fixed, _sync = _run(sessions, settings)
    assert fixed.status == "done" and _deals(session) == 3


@pytest.mark.all_backends
def test_a_refused_history_entry_undoes_its_batch_of_deals_too(
    session: Session, sessions: sessionmaker[Session], settings: Settings, fake: FakeHubSpot
) -> None:
    seed_portal(fake, companies=2, deals=3)
    deal = list(fake.records["deals"])[2]
    fake.history[deal].insert(0, ("s" * 300, "2026-01-01T00:00:00.000Z"))  # a stage id too long to store
    connect(session, settings, fake)
    run, _sync = _run(sessions, settings)
    assert run.status == "rejected" and run.objects["deal stage history"]["rejected"] == 1
    # The deals were valid and written first; the savepoint took them back with the refused history.
    assert _deals(session) == 0 and not session.scalars(select(OpportunityStageChange)).all()
    assert session.scalar(select(SyncCheckpoint).where(SyncCheckpoint.object_name == "deals")) is None
    assert run.objects["deals"]["new"] == 0
