"""The worker against real stand-ins on a committed database: delivered, retried, dead, throttled, leased."""

from __future__ import annotations

import itertools
import random
import threading
from datetime import UTC, datetime, timedelta

import pytest

from ecoops.automation.claims import backoff_seconds, claim
from ecoops.automation.deliveries import Channel
from ecoops.automation.endpoints import WebhookEndpoint
from ecoops.automation.worker import Worker
from ecoops.db import transaction
from tests.automation.delivery.helpers import FakeClock, add_deliveries, add_endpoint, rows
from tests.automation.delivery.standins import Answer

pytestmark = pytest.mark.all_backends


def as_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def test_one_tick_delivers_to_slack_email_and_a_webhook_each_with_its_uid(
    db, delivery_settings, slack, smtp, receiver
):
    _, inbox = smtp
    [slack_uid] = add_deliveries(db, Channel.SLACK, ["C0SALES"])
    [mail_uid] = add_deliveries(db, Channel.EMAIL, ["pm@example.com"])
    endpoint = add_endpoint(db, receiver.url + "/in")
    [hook_uid] = add_deliveries(db, Channel.WEBHOOK, [endpoint])

    outcomes = Worker(db, delivery_settings).run(once=True)

    assert outcomes == {"delivered": 3}
    stored = rows(db)
    assert {uid: d.status for uid, d in stored.items()} == dict.fromkeys(
        (slack_uid, mail_uid, hook_uid), "delivered"
    )
    assert all(d.attempts == 1 and d.delivered_at is not None for d in stored.values())
    [post] = slack.posts_to("/api/chat.postMessage")
    assert post.json()["metadata"]["event_payload"]["delivery_uid"] == slack_uid
    assert inbox.messages[0]["X-Ecoops-Delivery"] == mail_uid
    assert receiver.requests[0].headers["webhook-id"] == hook_uid
    assert receiver.verified == [True]
    with db() as session:
        assert session.get(WebhookEndpoint, int(endpoint)).last_status == 200


def test_a_failing_send_is_retried_with_backoff_then_delivered(db, delivery_settings, slack):
    settings = delivery_settings.model_copy(
        update={"delivery_backoff_seconds": 10.0, "delivery_max_attempts": 5}
    )
    clock = FakeClock()
    worker = Worker(db, settings, clock=clock, rng=random.Random(7))
    [uid] = add_deliveries(db, Channel.SLACK, ["C1"])
    slack.answer(
        Answer(500, {"ok": False, "error": "internal_error"}), Answer(500, {"ok": False, "error": "x"})
    )

    assert worker.tick() == {"retry": 1}
    first = rows(db)[uid]
    assert (first.status, first.attempts) == ("pending", 1)
    assert "internal_error" in first.last_error
    # Full jitter: the wait is in [0, base] after the first failure; the seeded rng gives the exact value.
    expected = backoff_seconds(1, base=10.0, cap=settings.delivery_backoff_max_seconds, rng=random.Random(7))
    assert as_utc(first.next_attempt_at) == pytest.approx(
        datetime.fromtimestamp(clock(), UTC) + timedelta(seconds=expected), abs=timedelta(milliseconds=5)
    )
    assert worker.tick() == {}  # not due yet
    clock.advance(10.01)
    assert worker.tick() == {"retry": 1}
    assert rows(db)[uid].attempts == 2
    clock.advance(20.01)  # the second wait is at most 2 * base
    assert worker.tick() == {"delivered": 1}
    final = rows(db)[uid]
    assert (final.status, final.attempts, final.last_error) == ("delivered", 3, "")
    uids = [
        p.json()["metadata"]["event_payload"]["delivery_uid"] for p in slack.posts_to("/api/chat.postMessage")
    ]
    assert uids == [uid, uid, uid]  # every attempt carries the same idempotency id


def test_backoff_is_full_jitter_under_an_exponential_cap():
    rng = random.Random(1)
    samples = {
        n: [backoff_seconds(n, base=2.0, cap=30.0, rng=rng) for _ in range(300)] for n in (1, 2, 3, 5, 9)
    }
    for attempt, ceiling in {1: 2.0, 2: 4.0, 3: 8.0, 5: 30.0, 9: 30.0}.items():
        assert all(0.0 <= s <= ceiling for s in samples[attempt])
        assert max(samples[attempt]) > 0.8 * ceiling  # spread over the whole range, not a fixed delay
        assert min(samples[attempt]) < 0.2 * ceiling


def test_retry_after_is_honoured(db, delivery_settings, slack):
    clock = FakeClock()
    [uid] = add_deliveries(db, Channel.SLACK, ["C1"])
    slack.answer(Answer(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "30"}))
    Worker(db, delivery_settings, clock=clock).tick()
    waited = as_utc(rows(db)[uid].next_attempt_at) - datetime.fromtimestamp(clock(), UTC)
    assert (
        timedelta(seconds=29.99) <= waited <= timedelta(seconds=30.01)
    )  # backoff base is 0 in these settings


def test_after_max_attempts_a_delivery_is_dead_with_its_last_error(db, delivery_settings, slack):
    [uid] = add_deliveries(db, Channel.SLACK, ["C1"])
    slack.answer(*[Answer(503, {"ok": False, "error": "service_unavailable"})] * 3)
    worker = Worker(db, delivery_settings)  # max 3 attempts, backoff 0
    outcomes = worker.tick() + worker.tick() + worker.tick()
    assert outcomes == {"retry": 2, "dead": 1}
    dead = rows(db)[uid]
    assert (dead.status, dead.attempts) == ("dead", 3)
    assert "service_unavailable" in dead.last_error
    assert worker.tick() == {}  # nobody sends a dead delivery again by themselves
    assert len(slack.posts_to("/api/chat.postMessage")) == 3


def test_a_permanent_error_is_dead_at_once(db, delivery_settings, slack):
    [uid] = add_deliveries(db, Channel.SLACK, ["C404"])
    slack.answer(Answer(200, {"ok": False, "error": "channel_not_found"}))
    assert Worker(db, delivery_settings).tick() == {"dead": 1}
    assert rows(db)[uid].attempts == 1


def test_an_endpoint_answering_410_is_disabled_with_the_reason_and_gets_nothing_more(
    db, delivery_settings, receiver
):
    endpoint = add_endpoint(db, receiver.url + "/in")
    [first, second] = add_deliveries(db, Channel.WEBHOOK, [endpoint, endpoint])
    receiver.answer(Answer(410, "gone"))
    settings = delivery_settings.model_copy(update={"worker_batch": 1})
    worker = Worker(db, settings)
    worker.deliver_due()
    worker.deliver_due()
    stored = rows(db)
    assert stored[first].status == "dead"
    assert "410" in stored[first].last_error
    assert stored[second].status == "dead"
    assert "disabled" in stored[second].last_error
    assert len(receiver.requests) == 1
    with db() as session:
        row = session.get(WebhookEndpoint, int(endpoint))
        assert not row.enabled
        assert "410 Gone" in row.disabled_reason
        assert row.last_status == 410


def test_a_webhook_to_a_private_address_is_refused_unless_allowed(db, delivery_settings, receiver):
    refused = add_endpoint(db, receiver.url + "/private", allow_private=False)
    allowed = add_endpoint(db, receiver.url + "/allowed", allow_private=True)
    [no, yes] = add_deliveries(db, Channel.WEBHOOK, [refused, allowed])
    Worker(db, delivery_settings).tick()
    stored = rows(db)
    assert stored[no].status == "dead"
    assert "non-public address 127.0.0.1" in stored[no].last_error
    assert stored[yes].status == "delivered"
    assert [r.path for r in receiver.requests] == ["/allowed"]


def test_slack_messages_to_one_channel_are_spaced_by_the_interval(db, delivery_settings, slack):
    """Fake clock: six messages to C_A and two to C_B, the clock moving 0.25 s per tick."""
    settings = delivery_settings.model_copy(update={"slack_min_interval": 1.0})
    clock = FakeClock()
    sent: list[tuple[float, str]] = []
    from ecoops.automation.channels import slack as slack_channel

    def recording(outgoing, settings):
        sent.append((clock(), outgoing.target))
        slack_channel.send(outgoing, settings)

    worker = Worker(db, settings, clock=clock, senders={"slack": recording})
    add_deliveries(db, Channel.SLACK, ["C_A"] * 6 + ["C_B"] * 2)
    start = clock()
    while len(sent) < 8:
        worker.tick()
        clock.advance(0.25)
        assert clock() - start < 20, "throttled deliveries never went out"
    for channel, count in (("C_A", 6), ("C_B", 2)):
        times = [t for t, c in sent if c == channel]
        assert len(times) == count
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert all(gap >= 1.0 for gap in gaps), gaps
    # Throttling one channel does not hold back the other: C_B's first message went out at once.
    assert min(t for t, c in sent if c == "C_B") == start
    assert len(slack.posts_to("/api/chat.postMessage")) == 8
    assert {d.status for d in rows(db).values()} == {"delivered"}
    assert {d.attempts for d in rows(db).values()} == {1}  # a throttled wait is not an attempt


def test_a_claim_left_by_a_dead_worker_is_sent_again_after_its_lease_with_the_same_uid(
    db, delivery_settings, smtp
):
    _, inbox = smtp
    clock = FakeClock()
    [uid] = add_deliveries(db, Channel.EMAIL, ["a@example.com"])
    with transaction(db) as session:  # a worker claims, then dies before sending
        [taken] = claim(session, now=datetime.fromtimestamp(clock(), UTC), lease_seconds=60, limit=10)
    assert taken.uid == uid
    worker = Worker(db, delivery_settings, clock=clock)
    assert worker.tick() == {}  # leased: nobody else takes it
    clock.advance(61)
    assert worker.tick() == {"delivered": 1}
    assert [m["X-Ecoops-Delivery"] for m in inbox.messages] == [uid]
    assert rows(db)[uid].attempts == 2


def test_several_workers_share_the_work_without_sending_anything_twice(db, delivery_settings, receiver):
    endpoint = add_endpoint(db, receiver.url + "/in")
    uids = add_deliveries(db, Channel.WEBHOOK, [endpoint] * 60)
    settings = delivery_settings.model_copy(update={"worker_batch": 5})
    workers = [Worker(db, settings, concurrency=2) for _ in range(3)]
    threads = [threading.Thread(target=w.run, kwargs={"once": True}) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert sorted(ids) == sorted(uids)  # each exactly once
    assert {d.status for d in rows(db).values()} == {"delivered"}


def test_the_throttle_holds_across_workers_running_at_the_same_time(db, delivery_settings, slack):
    settings = delivery_settings.model_copy(update={"slack_min_interval": 0.5, "worker_poll_seconds": 0.05})
    add_deliveries(db, Channel.SLACK, ["C_SHARED"] * 4)
    workers = [Worker(db, settings) for _ in range(3)]
    threads = [threading.Thread(target=w.run) for w in workers]
    for thread in threads:
        thread.start()
    try:
        for _ in range(200):
            if len(slack.posts_to("/api/chat.postMessage")) == 4:
                break
            threading.Event().wait(0.05)
    finally:
        for worker in workers:
            worker.stop()
        for thread in threads:
            thread.join(timeout=10)
    times = sorted(r.at for r in slack.posts_to("/api/chat.postMessage"))
    assert len(times) == 4
    # The slot is taken before the request; allow the request's own jitter on this loaded machine.
    assert all(b - a >= 0.4 for a, b in itertools.pairwise(times)), times
