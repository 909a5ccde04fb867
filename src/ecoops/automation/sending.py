"""Sending one claimed delivery: throttle, build what the channel needs, send, record the outcome.

The outcome is committed only after the channel returned, so a crash between the receiver's
acknowledgement and our commit means the delivery is sent again, with the same uid: at least once,
and a duplicate is recognisable.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from ecoops import audit
from ecoops.actors import SYSTEM
from ecoops.automation import throttle
from ecoops.automation.channels import email, slack, webhook
from ecoops.automation.channels.base import (
    DeliveryError,
    EndpointGone,
    Outgoing,
    PermanentError,
    RetryableError,
    WebhookTarget,
)
from ecoops.automation.claims import Claim, backoff_seconds, mark_delivered, mark_failed, postpone
from ecoops.automation.deliveries import Channel
from ecoops.automation.endpoints import WebhookEndpoint
from ecoops.config import Settings
from ecoops.db import transaction
from ecoops.events.models import Event

log = logging.getLogger("ecoops.worker")

Sender = Callable[[Outgoing, Settings], None]
SENDERS: dict[str, Sender] = {
    Channel.SLACK: slack.send,
    Channel.EMAIL: email.send,
    Channel.WEBHOOK: webhook.send,
}


def min_interval(channel: str, settings: Settings) -> float:
    intervals: dict[str, float] = {
        Channel.SLACK: settings.slack_min_interval,
        Channel.EMAIL: settings.email_min_interval,
        Channel.WEBHOOK: settings.webhook_min_interval,
    }
    return intervals.get(channel, 0.0)


def _event_json(event: Event) -> dict[str, Any]:
    return {
        "uid": event.uid,
        "kind": event.kind,
        "occurred_at": event.occurred_at.isoformat(),
        "partner_id": event.partner_id,
        "account_crm_id": event.account_crm_id,
        "opportunity_crm_id": event.opportunity_crm_id,
        "payload": event.payload,
    }


def _outgoing(session: Session, claim: Claim) -> Outgoing:
    event = session.get(Event, claim.event_id) if claim.event_id is not None else None
    endpoint = None
    if claim.channel == Channel.WEBHOOK:
        row = session.get(WebhookEndpoint, int(claim.target)) if claim.target.isdigit() else None
        if row is None:
            raise PermanentError(f"webhook endpoint {claim.target} does not exist")
        if not row.enabled:
            raise PermanentError(
                f"webhook endpoint {row.name!r} is disabled: {row.disabled_reason or 'by an admin'}"
            )
        endpoint = WebhookTarget(url=row.url, secret=row.secret, allow_private=row.allow_private)
    event_json = _event_json(event) if event is not None else None
    return Outgoing(
        uid=claim.uid, target=claim.target, message=claim.message, event=event_json, endpoint=endpoint
    )


def _record_endpoint(session: Session, claim: Claim, now: datetime, failure: DeliveryError | None) -> None:
    """The endpoint's last answer; a 410 disables it. UPDATE statements only: on SQLite a transaction
    that reads before it writes can be refused the write lock when another worker committed meanwhile."""
    values: dict[str, Any] = {
        "last_attempt_at": now,
        "last_status": 200 if failure is None else failure.status,
        "last_error": "" if failure is None else str(failure)[:2000],
    }
    endpoint_id = int(claim.target)
    session.execute(update(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id).values(**values))
    if isinstance(failure, EndpointGone):
        reason = f"the receiver answered 410 Gone on {now:%Y-%m-%d %H:%M} UTC"
        disabled = session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.enabled.is_(True))
            .values(enabled=False, disabled_reason=reason)
            .returning(WebhookEndpoint.id)
        ).first()
        if disabled is not None:
            audit.record(
                session, SYSTEM, "webhook_endpoint.disabled", "webhook_endpoint", endpoint_id, reason=reason
            )


def deliver(
    factory: sessionmaker[Session],
    claim: Claim,
    settings: Settings,
    *,
    clock: Callable[[], float],
    rng: random.Random,
    senders: Mapping[str, Sender] = SENDERS,
) -> str:
    """Send one claim and commit its outcome; returns "delivered", "retry", "dead" or "throttled"."""
    now_ts = clock()
    interval = min_interval(claim.channel, settings)
    if interval > 0:
        with transaction(factory) as session:
            free_at = throttle.acquire(session, f"{claim.channel}:{claim.target}", interval, now_ts)
            if free_at is not None:
                postpone(session, claim, datetime.fromtimestamp(free_at, UTC))
                return "throttled"
    failure: DeliveryError | None = None
    contacted = False  # whether a webhook endpoint was called, so its last answer is worth recording
    try:
        if claim.attempts > settings.delivery_max_attempts:  # a worker died mid-send that often
            raise PermanentError(f"gave up after {claim.attempts - 1} attempts")
        with transaction(factory) as session:
            outgoing = _outgoing(session, claim)
        sender = senders.get(claim.channel)
        if sender is None:
            raise PermanentError(f"no channel called {claim.channel!r}")
        contacted = outgoing.endpoint is not None
        sender(outgoing, settings)
    except DeliveryError as exc:
        failure = exc
    except Exception as exc:  # a bug in a channel must not stop the worker; retried, then dead
        log.exception("delivery %s failed unexpectedly", claim.uid)
        failure = RetryableError(f"{type(exc).__name__}: {exc}")
    done = datetime.fromtimestamp(clock(), UTC)
    with transaction(factory) as session:
        if contacted:
            _record_endpoint(session, claim, done, failure)
        return _record_outcome(session, claim, failure, done, settings, rng)


def _record_outcome(
    session: Session,
    claim: Claim,
    failure: DeliveryError | None,
    done: datetime,
    settings: Settings,
    rng: random.Random,
) -> str:
    if failure is None:
        mark_delivered(session, claim, done)
        return "delivered"
    if failure.retryable and claim.attempts < settings.delivery_max_attempts:
        delay = backoff_seconds(
            claim.attempts,
            base=settings.delivery_backoff_seconds,
            cap=settings.delivery_backoff_max_seconds,
            rng=rng,
        )
        delay = max(delay, failure.retry_after or 0.0)
        mark_failed(session, claim, error=str(failure), retry_at=done + timedelta(seconds=delay))
        log.info(
            "delivery %s failed (attempt %d), retry in %.1fs: %s", claim.uid, claim.attempts, delay, failure
        )
        return "retry"
    mark_failed(session, claim, error=str(failure), retry_at=None)
    log.warning("delivery %s is dead after %d attempts: %s", claim.uid, claim.attempts, failure)
    return "dead"
