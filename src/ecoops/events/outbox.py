"""Writing events into the outbox and reading the ones not dispatched yet."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
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


def undispatched(session: Session, limit: int = 500) -> Sequence[Event]:
    """The oldest events no rule has looked at yet, in commit order of their ids."""
    query = select(Event).where(Event.dispatched_at.is_(None)).order_by(Event.id).limit(limit)
    return session.scalars(query).all()
