"""Writing events into the outbox and reading the ones not dispatched yet."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ecoops.audit import utcnow
from ecoops.events.models import Event, EventKind


def emit(
    session: Session,
    kind: EventKind,
    *,
    partner_id: int | None = None,
    account_crm_id: str = "",
    opportunity_crm_id: str = "",
    occurred_at: datetime | None = None,
    **payload: Any,
) -> Event:
    """Add an event to the caller's transaction: it is committed, or lost, with the change itself."""
    event = Event(
        uid=str(uuid.uuid4()),
        kind=kind.value,
        occurred_at=occurred_at or utcnow(),
        partner_id=partner_id,
        account_crm_id=account_crm_id,
        opportunity_crm_id=opportunity_crm_id,
        payload=payload,
    )
    session.add(event)
    session.flush()
    return event


def emit_many(
    session: Session, kind: EventKind, events: list[dict[str, Any]], *, occurred_at: datetime | None = None
) -> int:
    """Add many events of one kind in one statement (a mapping run's new overlaps, an import's won deals).

    Each dict holds the `emit` keywords: partner_id, account_crm_id, opportunity_crm_id, and the payload
    under "payload".
    """
    if not events:
        return 0
    moment = occurred_at or utcnow()
    rows = [
        {
            "uid": str(uuid.uuid4()),
            "kind": kind.value,
            "occurred_at": moment,
            "partner_id": e.get("partner_id"),
            "account_crm_id": e.get("account_crm_id", ""),
            "opportunity_crm_id": e.get("opportunity_crm_id", ""),
            "payload": e.get("payload", {}),
            "dispatched_at": None,
        }
        for e in events
    ]
    session.execute(insert(Event), rows)
    return len(rows)


def undispatched(session: Session, limit: int = 500) -> Sequence[Event]:
    """The oldest events no rule has looked at yet, in commit order of their ids."""
    query = select(Event).where(Event.dispatched_at.is_(None)).order_by(Event.id).limit(limit)
    return session.scalars(query).all()
