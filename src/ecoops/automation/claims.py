"""The delivery state machine in the database: claim due rows, then record delivered, retry or dead.

A claim is one UPDATE … WHERE id IN (SELECT due rows … LIMIT n) RETURNING id, committed before
anything is sent. On PostgreSQL the inner SELECT takes `FOR UPDATE SKIP LOCKED`, so several worker
processes claim disjoint rows without waiting on each other; on SQLite the single statement runs
under the database's write lock, which serialises concurrent claimers. A claim sets status
"sending" and moves next_attempt_at to the end of a lease: a worker killed mid-send leaves a row
that becomes due again when the lease runs out, and is sent again under the same uid.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ecoops.automation.deliveries import Delivery, DeliveryStatus
from ecoops.automation.messages import Message

DUE = (DeliveryStatus.PENDING.value, DeliveryStatus.SENDING.value)


@dataclass(frozen=True)
class Claim:
    """A snapshot of a claimed delivery: what the sender needs, detached from any session."""

    id: int
    uid: str
    channel: str
    target: str
    message: Message
    event_id: int | None
    attempts: int  # including this one


def claim(session: Session, *, now: datetime, lease_seconds: float, limit: int) -> list[Claim]:
    """Take up to `limit` due deliveries for `lease_seconds`; the caller commits before sending."""
    due = (
        select(Delivery.id)
        .where(Delivery.status.in_(DUE), Delivery.next_attempt_at <= now)
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = session.scalars(
        update(Delivery)
        .where(Delivery.id.in_(due.scalar_subquery()))
        .values(
            status=DeliveryStatus.SENDING.value,
            attempts=Delivery.attempts + 1,
            next_attempt_at=now + timedelta(seconds=lease_seconds),
        )
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)
    ).all()
    if not ids:
        return []
    rows = session.execute(
        select(
            Delivery.id,
            Delivery.uid,
            Delivery.channel,
            Delivery.target,
            Delivery.message,
            Delivery.event_id,
            Delivery.attempts,
        )
        .where(Delivery.id.in_(ids))
        .order_by(Delivery.id)
    ).all()
    return [
        Claim(r.id, r.uid, r.channel, r.target, Message.from_json(r.message), r.event_id, r.attempts)
        for r in rows
    ]


def backoff_seconds(attempt: int, *, base: float, cap: float, rng: random.Random) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2^(attempt-1))]."""
    return rng.uniform(0.0, min(cap, base * 2 ** max(0, attempt - 1)))


def mark_delivered(session: Session, claim: Claim, now: datetime) -> None:
    session.execute(
        update(Delivery)
        .where(Delivery.id == claim.id, Delivery.status != DeliveryStatus.DELIVERED.value)
        .values(status=DeliveryStatus.DELIVERED.value, delivered_at=now, last_error="")
        .execution_options(synchronize_session=False)
    )


def mark_failed(session: Session, claim: Claim, *, error: str, retry_at: datetime | None) -> None:
    """Back to pending until `retry_at`, or dead when there is to be no retry (None)."""
    status = DeliveryStatus.DEAD if retry_at is None else DeliveryStatus.PENDING
    values: dict[str, object] = {"status": status.value, "last_error": error[:2000]}
    if retry_at is not None:
        values["next_attempt_at"] = retry_at
    session.execute(
        update(Delivery)
        .where(Delivery.id == claim.id, Delivery.status == DeliveryStatus.SENDING.value)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def postpone(session: Session, claim: Claim, until: datetime) -> None:
    """Give a claim back unsent (its target is throttled): not an attempt, so the count is restored."""
    session.execute(
        update(Delivery)
        .where(Delivery.id == claim.id, Delivery.status == DeliveryStatus.SENDING.value)
        .values(status=DeliveryStatus.PENDING.value, attempts=Delivery.attempts - 1, next_attempt_at=until)
        .execution_options(synchronize_session=False)
    )
