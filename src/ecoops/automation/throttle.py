"""Per-target throttling shared by every worker process: one row per target, updated atomically.

Slack accepts about one message per second per channel. A worker asks `acquire(...)` before sending;
the conditional UPDATE succeeds for exactly one caller per interval (the database serialises it, so it
holds across several `ecoops worker` processes on PostgreSQL). A caller that loses is told when the
target is free again and reschedules its delivery instead of sleeping.
"""

from __future__ import annotations

from sqlalchemy import Float, String, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from ecoops.db import Base


class DeliveryThrottle(Base):
    __tablename__ = "delivery_throttles"

    key: Mapped[str] = mapped_column(String(520), primary_key=True)  # "<channel>:<target>"
    # Seconds since the epoch (a float, so the comparison is plain arithmetic on every backend).
    next_at: Mapped[float] = mapped_column(Float, default=0.0)


def acquire(session: Session, key: str, interval: float, now: float) -> float | None:
    """Take the target's slot at `now`: None when taken, else the time the target is free again.

    The caller commits right after, so the row lock (PostgreSQL) is held only for this statement.
    """
    if interval <= 0:
        return None
    taken = session.execute(
        update(DeliveryThrottle)
        .where(DeliveryThrottle.key == key, DeliveryThrottle.next_at <= now)
        .values(next_at=now + interval)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount == 1:  # type: ignore[attr-defined]
        return None
    free_at = session.scalar(select(DeliveryThrottle.next_at).where(DeliveryThrottle.key == key))
    if free_at is not None:
        return free_at
    try:
        with session.begin_nested():
            session.add(DeliveryThrottle(key=key, next_at=now + interval))
    except IntegrityError:  # another worker created the row first: it holds the slot
        return (
            session.scalar(select(DeliveryThrottle.next_at).where(DeliveryThrottle.key == key))
            or now + interval
        )
    return None
