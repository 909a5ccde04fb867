"""The audit trail: every state change writes one row, in the same transaction as the change."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ecoops.actors import Actor
from ecoops.db import Base
from ecoops.pagination import Page, paginate
from ecoops.permissions import Permission, require


def utcnow() -> datetime:
    return datetime.now(UTC)


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor_kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_label: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(80), index=True)
    target_type: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[str | None] = mapped_column(String(80))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


def record(
    session: Session,
    actor: Actor,
    action: str,
    target_type: str,
    target_id: object = None,
    **details: Any,
) -> AuditEvent:
    """Add an audit row for `action` on a target; the caller's transaction commits it."""
    event = AuditEvent(
        at=utcnow(),
        actor_kind=actor.kind.value,
        actor_id=actor.id,
        actor_label=actor.label,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        details=details,
    )
    session.add(event)
    return event


def recent(session: Session, *, limit: int = 50, offset: int = 0) -> list[AuditEvent]:
    statement = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit).offset(offset)
    return list(session.scalars(statement))


def search(
    session: Session, actor: Actor, *, action: str = "", by: str = "", page: int = 1, per_page: int = 50
) -> Page[AuditEvent]:
    """The trail, newest first: `action` matches exactly, `by` any part of the actor's label."""
    require(actor, Permission.READ_AUDIT)
    statement = select(AuditEvent)
    if action:
        statement = statement.where(AuditEvent.action == action)
    if by.strip():
        statement = statement.where(func.lower(AuditEvent.actor_label).like(f"%{by.strip().lower()}%"))
    return paginate(session, statement.order_by(AuditEvent.id.desc()), page=page, per_page=per_page)


def actions(session: Session, actor: Actor) -> list[str]:
    """Every action the trail holds, for the action filter."""
    require(actor, Permission.READ_AUDIT)
    return list(session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))
