"""The delivery outbox: one row per message to send, enqueued in the transaction that decided to send it.

Rules, nurture and digests call `enqueue(...)`; the worker (automation/worker.py) claims due rows and
hands them to a channel. Every row has a stable `uid` that travels with the message as its
idempotency id, so a message the worker sent but could not mark delivered (it was killed in between)
is sent again with the same id and the receiver can drop the duplicate.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from ecoops.audit import utcnow
from ecoops.automation.messages import Message
from ecoops.db import Base
from ecoops.events.models import Event


class Channel(StrEnum):
    SLACK = "slack"
    EMAIL = "email"
    WEBHOOK = "webhook"


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for next_attempt_at
    SENDING = "sending"  # claimed by a worker until next_attempt_at (its lease), then due again
    DELIVERED = "delivered"
    DEAD = "dead"  # gave up: a permanent error or too many attempts; retried only by a person


class Delivery(Base):
    __tablename__ = "deliveries"
    # The worker's one question: which rows are due (pending, or sending with an expired lease)?
    __table_args__ = (Index("ix_deliveries_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(64), unique=True)  # the idempotency id sent with the message
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"), index=True)
    rule_id: Mapped[int | None] = mapped_column(Integer, index=True)  # no FK: rules live in another table set
    source: Mapped[str] = mapped_column(String(20))  # rule | nurture | digest | manual
    source_ref: Mapped[str] = mapped_column(String(120), default="")
    channel: Mapped[str] = mapped_column(String(10), index=True)
    target: Mapped[str] = mapped_column(String(500))  # Slack channel id, e-mail address, webhook endpoint id
    recipient: Mapped[str] = mapped_column(String(200), index=True)  # "user:7", "partner:3", "channel:#sales"
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id", ondelete="SET NULL"), index=True)
    message: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), default=DeliveryStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def body(self) -> Message:
        return Message.from_json(self.message)


# Built once (statements with parameters passed at execution are compiled once and cached).
_INSERT_OR_NOTHING = {
    True: sqlite_insert(Delivery).on_conflict_do_nothing(index_elements=["uid"]),
    False: postgresql_insert(Delivery).on_conflict_do_nothing(index_elements=["uid"]),
}


def delivery_uid(
    *, channel: Channel, target: str, event: Event | None, rule_id: int | None, source_ref: str
) -> str:
    """Stable id for "this event (or source step) through this rule to this target on this channel"."""
    origin = event.uid if event is not None else source_ref
    key = "\x1f".join((origin, "" if rule_id is None else str(rule_id), channel.value, target))
    return "dlv_" + hashlib.sha256(key.encode()).hexdigest()[:40]


def enqueue(
    session: Session,
    *,
    channel: Channel,
    target: str,
    message: Message,
    recipient: str,
    source: str,
    event: Event | None = None,
    rule_id: int | None = None,
    source_ref: str = "",
    partner_id: int | None = None,
    uid: str | None = None,
) -> Delivery:
    """Add a delivery to the caller's transaction, or return the one already enqueued under the same uid."""
    if not target:
        raise ValueError(f"a {channel.value} delivery needs a target")
    if event is None and not source_ref and uid is None:
        raise ValueError(
            "a delivery without an event needs a source_ref (or an explicit uid) to be idempotent"
        )
    uid = uid or delivery_uid(
        channel=channel, target=target, event=event, rule_id=rule_id, source_ref=source_ref
    )
    now = utcnow()
    values = {
        "uid": uid,
        "event_id": event.id if event is not None else None,
        "rule_id": rule_id,
        "source": source,
        "source_ref": source_ref,
        "channel": channel.value,
        "target": target,
        "recipient": recipient,
        "partner_id": partner_id
        if partner_id is not None
        else (event.partner_id if event is not None else None),
        "message": message.to_json(),
        "status": DeliveryStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": now,
        "last_error": "",
        "created_at": now,
    }
    # One statement, whoever else enqueues the same uid at the same time: the unique uid decides.
    session.execute(_INSERT_OR_NOTHING[session.get_bind().dialect.name == "sqlite"], values)
    delivery = session.scalar(select(Delivery).where(Delivery.uid == uid))
    assert delivery is not None  # inserted now, or by whoever won
    return delivery
