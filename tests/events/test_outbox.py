"""The outbox: an event exists exactly when the change that emitted it was committed."""

import pytest
from sqlalchemy import func, select

from ecoops.events import Event, EventKind, emit, undispatched
from tests.factories import make_partner

pytestmark = pytest.mark.all_backends


def test_an_event_is_written_with_the_change_and_read_back_in_order(session):
    partner = make_partner(session)
    first = emit(session, EventKind.PARTNER_STAGE_CHANGED, partner_id=partner.id, to_stage="active")
    second = emit(session, EventKind.OVERLAP_BEGAN, partner_id=partner.id, account_crm_id="001A")

    pending = undispatched(session)
    assert [e.id for e in pending] == [first.id, second.id]
    assert pending[0].payload == {"to_stage": "active"}
    assert pending[1].account_crm_id == "001A"
    assert first.uid != second.uid


def test_a_rolled_back_change_leaves_no_event(session):
    partner = make_partner(session)
    savepoint = session.begin_nested()
    emit(session, EventKind.PARTNER_INACTIVE, partner_id=partner.id, days=90)
    savepoint.rollback()
    assert session.scalar(select(func.count()).select_from(Event)) == 0


def test_dispatched_events_are_not_read_again(session):
    event = emit(session, EventKind.PARTNER_LIST_UPLOADED)
    event.dispatched_at = event.occurred_at
    session.flush()
    assert event not in undispatched(session)
