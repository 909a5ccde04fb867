"""Content utilisation: views and shares, one row per person, item, action and day, and the figure
"content utilisation by Sales on referrals" (docs/enablement.md).

A use is counted once per person, item, action and workspace day by a unique key: a second view the same day,
or two at the same moment on either backend, stores nothing more. The first view of the day keeps the
referral it was opened from, which is what the figure reads.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.actors import Actor, ActorKind, Role
from ecoops.enablement.content import readable_content
from ecoops.enablement.models import ContentItem, ContentUse, UseAction
from ecoops.partners.programs import FieldError
from ecoops.permissions import Forbidden, Permission, require
from ecoops.referrals.access import get_referral
from ecoops.referrals.models import Direction, Referral


def _person(actor: Actor) -> str:
    if actor.id is None or actor.kind == ActorKind.SYSTEM:
        raise Forbidden("only a person's views and shares are counted")
    return f"{actor.kind.value}:{actor.id}"


def record_use(
    session: Session,
    actor: Actor,
    item: ContentItem,
    action: UseAction,
    day: date,
    referral_id: int | None = None,
) -> bool:
    """Count the actor's view or share of an item it may read, once per day; True when this one counted.

    `referral_id`: the referral it was opened from, which the actor must be able to read."""
    person = _person(actor)
    if actor.kind == ActorKind.USER and action == UseAction.SHARE and actor.role == Role.VIEWER:
        raise Forbidden(f"{actor.label} may not share content")
    if referral_id is not None:
        referral_id = get_referral(session, actor, referral_id).id
    key = (ContentUse.content_id == item.id, ContentUse.person == person, ContentUse.action == action.value)
    if session.scalar(select(ContentUse.id).where(*key, ContentUse.day == day)) is not None:
        return False
    try:
        with session.begin_nested():  # the same person's same use at the same moment, on another request
            session.add(
                ContentUse(
                    content_id=item.id,
                    person=person,
                    role=actor.role.value
                    if actor.kind == ActorKind.USER and actor.role
                    else actor.kind.value,
                    partner_id=actor.partner_id,
                    action=action.value,
                    day=day,
                    referral_id=referral_id,
                )
            )
            session.flush()
    except IntegrityError:
        return False
    if action == UseAction.SHARE:
        audit.record(session, actor, "content.shared", "content_item", item.id, referral_id=referral_id)
    return True


@dataclass(frozen=True)
class ItemCounts:
    """Counted uses of an item (each a person-day): by our people and by partner users."""

    internal_views: int = 0
    partner_views: int = 0
    internal_shares: int = 0
    partner_shares: int = 0
    people: int = 0  # distinct people who viewed or shared it


def item_counts(session: Session, actor: Actor, content_ids: list[int]) -> dict[int, ItemCounts]:
    """Counts per item, over all time, for internal readers (partners are not told others' use)."""
    require(actor, Permission.READ_PROGRAM)
    if not content_ids:
        return {}
    partner = ContentUse.role == ActorKind.PARTNER_USER.value
    rows = session.execute(
        select(ContentUse.content_id, ContentUse.action, partner, func.count())
        .where(ContentUse.content_id.in_(content_ids))
        .group_by(ContentUse.content_id, ContentUse.action, partner)
    )
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for content_id, action, by_partner, count in rows:
        counts[content_id][f"{'partner' if by_partner else 'internal'}_{action}s"] = count
    people = dict(
        session.execute(
            select(ContentUse.content_id, func.count(ContentUse.person.distinct()))
            .where(ContentUse.content_id.in_(content_ids))
            .group_by(ContentUse.content_id)
        ).all()
    )
    return {i: ItemCounts(**counts[i], people=people.get(i, 0)) for i in content_ids if i in counts}


@dataclass(frozen=True)
class ReferralUse:
    referral: Referral
    opened: bool  # a seller opened content from it by the period's end


@dataclass(frozen=True)
class Utilisation:
    """Content utilisation by Sales on referrals over [start, end]: of the inbound referrals submitted
    in the period, the share from which a seller (the sales role) opened content by the period's end."""

    start: date
    end: date
    referrals: list[ReferralUse]

    @property
    def total(self) -> int:
        return len(self.referrals)

    @property
    def opened(self) -> int:
        return sum(r.opened for r in self.referrals)

    @property
    def share(self) -> float | None:
        return self.opened / self.total if self.total else None


PERIOD_DAYS = 90  # the utilisation figure's default period: the last 90 days, the last day included


def default_start(end: date) -> date:
    """The first day of the utilisation figure's default period ending on `end`."""
    return end - timedelta(days=PERIOD_DAYS - 1)


def _moment(day: date, tz: tzinfo) -> datetime:
    """The first moment of a workspace day, in UTC."""
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)


def utilisation(session: Session, actor: Actor, start: date, end: date, tz: tzinfo = UTC) -> Utilisation:
    """The figure and its records (docs/enablement.md), reproducible for a past period: only views on or
    before `end` count. Days are the workspace's (`tz`), as everywhere in the figures."""
    require(actor, Permission.READ_METRICS)
    if end < start:
        raise FieldError("to", f"the period ends ({end}) before it starts ({start})")
    opened = (
        select(ContentUse.id)
        .where(
            ContentUse.referral_id == Referral.id,
            ContentUse.action == UseAction.VIEW.value,
            ContentUse.role == Role.SALES.value,
            ContentUse.day <= end,
            # Only items still readable count; an item deleted takes its uses with it.
            ContentUse.content_id.in_(readable_content(actor).with_only_columns(ContentItem.id)),
        )
        .exists()
    )
    rows = session.execute(
        select(Referral, opened)
        .where(
            Referral.direction == Direction.INBOUND.value,
            Referral.submitted_at >= _moment(start, tz),
            Referral.submitted_at < _moment(end + timedelta(days=1), tz),
        )
        .order_by(Referral.submitted_at.desc(), Referral.id.desc())
    )
    return Utilisation(start, end, [ReferralUse(referral, bool(was)) for referral, was in rows])
