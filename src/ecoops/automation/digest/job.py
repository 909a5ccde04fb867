"""The digest's tick job: once a week, at the configured weekday and hour of the workspace zone.

A week's digests are due from that moment until the week ends, so a worker that was down at the
hour sends them when it comes back. `digest_weeks` records a week as done (ticks after it cost one
query), and each e-mail's uid is "digest:<user id>:<ISO week>", so even two workers racing, or a
rerun after a crash mid-week, enqueue one e-mail per reader per week. Readers are the account
executives with overlaps or referrals, and the partner managers with goals (digest/goals.py).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.actors import SYSTEM
from ecoops.automation.deliveries import Channel, enqueue
from ecoops.automation.digest.goals import add_goals
from ecoops.automation.digest.message import render_digest
from ecoops.automation.digest.models import DigestWeek
from ecoops.automation.digest.picks import build_digests
from ecoops.config import Settings


def send_weekly_digests(session: Session, settings: Settings, now: datetime) -> int:
    """Enqueue this week's digests if their moment has come and they were not sent; how many."""
    local = now.astimezone(settings.tz)
    year, week, weekday = local.isocalendar()
    monday = local.date() - timedelta(days=weekday - 1)
    due = datetime.combine(
        monday + timedelta(days=settings.digest_weekday), time(settings.digest_hour), settings.tz
    )
    key = f"{year}-W{week:02d}"
    if not settings.digest_enabled or local < due:
        return 0
    if session.scalar(select(DigestWeek.id).where(DigestWeek.week == key)) is not None:
        return 0
    digests = add_goals(session, settings, build_digests(session, local.date()), local.date())
    for digest in digests:
        message = render_digest(
            digest, base_url=settings.link_base, currency=settings.currency, week_of=monday
        )
        enqueue(
            session,
            channel=Channel.EMAIL,
            target=digest.user.email,
            message=message,
            recipient=f"user:{digest.user.id}",
            source="digest",
            source_ref=f"digest:{key}",
            uid=f"digest:{digest.user.id}:{key}",
        )
    session.add(DigestWeek(week=key, sent_at=now, recipients=len(digests)))
    session.flush()
    audit.record(session, SYSTEM, "digest.sent", "digest_week", key, recipients=len(digests))
    return len(digests)
