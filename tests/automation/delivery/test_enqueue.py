"""enqueue(): one delivery per (event or source step, rule, channel, target), however often it is asked."""

import pytest
from sqlalchemy import func, insert, select

from ecoops.automation.deliveries import Channel, Delivery, DeliveryStatus, delivery_uid, enqueue
from ecoops.automation.messages import Button, Message
from ecoops.events import EventKind, emit
from tests.factories import make_partner

pytestmark = pytest.mark.all_backends

MESSAGE = Message(
    subject="New overlap", text="Acme overlaps with Partner 1", buttons=(Button("Open", "open", "1"),)
)


def count(session) -> int:
    return session.scalar(select(func.count()).select_from(Delivery))


def test_enqueueing_the_same_event_rule_channel_and_target_twice_keeps_one_row(session):
    partner = make_partner(session)
    event = emit(session, EventKind.OVERLAP_BEGAN, partner_id=partner.id, account_crm_id="001A")
    first = enqueue(
        session,
        channel=Channel.SLACK,
        target="C123",
        message=MESSAGE,
        recipient="channel:#sales",
        source="rule",
        event=event,
        rule_id=4,
    )
    again = enqueue(
        session,
        channel=Channel.SLACK,
        target="C123",
        message=MESSAGE,
        recipient="channel:#sales",
        source="rule",
        event=event,
        rule_id=4,
    )
    assert again.id == first.id
    assert count(session) == 1
    assert first.status == DeliveryStatus.PENDING
    assert first.attempts == 0
    assert first.partner_id == partner.id  # taken from the event
    assert first.event_id == event.id
    assert first.body == MESSAGE  # the message round-trips through JSON, buttons included


def test_the_uid_is_a_stable_hash_and_differs_by_rule_channel_and_target(session):
    event = emit(session, EventKind.REFERRAL_SUBMITTED)
    base = dict(message=MESSAGE, recipient="user:1", source="rule", event=event)
    a = enqueue(session, channel=Channel.EMAIL, target="a@example.com", rule_id=1, **base)
    b = enqueue(session, channel=Channel.EMAIL, target="b@example.com", rule_id=1, **base)
    c = enqueue(session, channel=Channel.EMAIL, target="a@example.com", rule_id=2, **base)
    d = enqueue(session, channel=Channel.WEBHOOK, target="a@example.com", rule_id=1, **base)
    assert len({a.uid, b.uid, c.uid, d.uid}) == 4
    assert count(session) == 4
    # Recomputed independently of the row: the same inputs give the same id in any process.
    assert a.uid == delivery_uid(
        channel=Channel.EMAIL, target="a@example.com", event=event, rule_id=1, source_ref=""
    )


def test_deliveries_without_an_event_are_keyed_by_their_source_ref(session):
    step = dict(
        channel=Channel.EMAIL,
        target="p@example.com",
        message=MESSAGE,
        recipient="partner:3",
        source="nurture",
    )
    first = enqueue(session, source_ref="nurture:1:step:2:partner:3", **step)
    assert enqueue(session, source_ref="nurture:1:step:2:partner:3", **step).id == first.id
    assert enqueue(session, source_ref="nurture:1:step:3:partner:3", **step).id != first.id
    assert count(session) == 2


def test_an_explicit_uid_wins_and_is_idempotent_too(session):
    kwargs = dict(channel=Channel.WEBHOOK, target="1", message=MESSAGE, recipient="manual", source="manual")
    first = enqueue(session, uid="manual-42", **kwargs)
    assert enqueue(session, uid="manual-42", **kwargs).id == first.id
    assert first.uid == "manual-42"
    assert count(session) == 1


def test_a_delivery_that_could_not_be_idempotent_is_refused(session):
    with pytest.raises(ValueError, match="source_ref"):
        enqueue(
            session,
            channel=Channel.EMAIL,
            target="a@example.com",
            message=MESSAGE,
            recipient="x",
            source="manual",
        )
    with pytest.raises(ValueError, match="needs a target"):
        enqueue(
            session,
            channel=Channel.SLACK,
            target="",
            message=MESSAGE,
            recipient="x",
            source="manual",
            source_ref="r",
        )
    assert count(session) == 0


def test_a_row_another_process_inserted_first_is_returned_and_the_callers_work_kept(session):
    event = emit(session, EventKind.PARTNER_INACTIVE)
    kwargs = dict(
        channel=Channel.SLACK,
        target="C9",
        message=MESSAGE,
        recipient="channel:#x",
        source="rule",
        event=event,
        rule_id=7,
    )
    uid = delivery_uid(channel=Channel.SLACK, target="C9", event=event, rule_id=7, source_ref="")
    # Written behind the ORM's back, as another worker's transaction would.
    session.execute(
        insert(Delivery).values(
            uid=uid,
            source="rule",
            source_ref="",
            channel="slack",
            target="C9",
            recipient="theirs",
            message=MESSAGE.to_json(),
            status="pending",
            attempts=0,
            next_attempt_at=event.occurred_at,
            last_error="",
            created_at=event.occurred_at,
        )
    )
    ours = enqueue(session, **kwargs)
    assert ours.recipient == "theirs"  # theirs, not a second row
    assert count(session) == 1
    assert session.get(type(event), event.id) is not None  # the caller's own work is intact
