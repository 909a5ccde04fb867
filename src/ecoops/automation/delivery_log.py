"""The delivery log and dead letters: who was sent what, how it went, and sending dead ones again."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, func, select, true, update
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.actors import Actor
from ecoops.audit import utcnow
from ecoops.automation.deliveries import Channel, Delivery, DeliveryStatus
from ecoops.pagination import Page, paginate
from ecoops.permissions import NotFound, Permission, require


@dataclass(frozen=True)
class LogFilter:
    rule_id: int | None = None
    recipient: str = ""  # exact, e.g. "user:7" or "partner:3"
    channel: str = ""
    status: str = ""

    def apply(self, query: Select[tuple[Delivery]]) -> Select[tuple[Delivery]]:
        if self.rule_id is not None:
            query = query.where(Delivery.rule_id == self.rule_id)
        if self.recipient:
            query = query.where(Delivery.recipient == self.recipient)
        if self.channel in {c.value for c in Channel}:
            query = query.where(Delivery.channel == self.channel)
        if self.status in {s.value for s in DeliveryStatus}:
            query = query.where(Delivery.status == self.status)
        return query


def log(session: Session, actor: Actor, filters: LogFilter, *, page: int, per_page: int) -> Page[Delivery]:
    require(actor, Permission.MANAGE_AUTOMATION)
    query = filters.apply(select(Delivery)).order_by(Delivery.id.desc())
    return paginate(session, query, page=page, per_page=per_page)


def counts_by_status(session: Session, actor: Actor) -> dict[str, int]:
    require(actor, Permission.MANAGE_AUTOMATION)
    rows = session.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).all()
    return {status: count for status, count in rows}


def _requeue(session: Session, condition: ColumnElement[bool]) -> int:
    """Dead deliveries matching `condition` become pending now, with a fresh allowance of attempts."""
    result = session.execute(
        update(Delivery)
        .where(Delivery.status == DeliveryStatus.DEAD.value, condition)
        .values(status=DeliveryStatus.PENDING.value, attempts=0, next_attempt_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def retry(session: Session, actor: Actor, delivery_id: int) -> Delivery:
    """Send one dead delivery again, under its same uid (the receiver can still drop a duplicate)."""
    require(actor, Permission.MANAGE_AUTOMATION)
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise NotFound("no such delivery")
    if delivery.status != DeliveryStatus.DEAD:
        raise NotFound(f"delivery {delivery_id} is {delivery.status}, not dead: nothing to retry")
    _requeue(session, Delivery.id == delivery_id)
    session.refresh(delivery)
    audit.record(session, actor, "delivery.retried", "delivery", delivery_id, uid=delivery.uid)
    return delivery


def retry_all_dead(session: Session, actor: Actor, *, channel: str = "") -> int:
    require(actor, Permission.MANAGE_AUTOMATION)
    condition = Delivery.channel == channel if channel else true()
    count = _requeue(session, condition)
    audit.record(session, actor, "delivery.retried_all_dead", "delivery", None, count=count, channel=channel)
    return count
