"""Time-based events, found on each worker tick and emitted once each: a referral past its review SLA,
a deal registration about to expire, a partner quiet for N days.

Nothing changes in the database when time passes, so these events have no domain write to ride on;
the scanner finds them and records a mark (a unique key per occurrence) beside each event it emits,
in the same transaction, so the next tick does not emit it again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, ForeignKey, String, and_, func, or_, select, union_all
from sqlalchemy.orm import Mapped, Session, mapped_column

from ecoops.attribution.models import PartnerTouch
from ecoops.audit import utcnow
from ecoops.config import Settings
from ecoops.db import Base
from ecoops.events import EventKind, emit
from ecoops.partners.models import Partner, PartnerStageChange, Stage
from ecoops.referrals.events import referral_payload
from ecoops.referrals.models import Direction, Kind, Referral, Status

# Stages where silence is worth noticing: signed and on, not yet churned.
WATCHED_STAGES = (Stage.SIGNED, Stage.ONBOARDING, Stage.ACTIVE, Stage.PRODUCING)


class ScanMark(Base):
    """One time-based event already emitted, under its occurrence key (e.g. "sla:12")."""

    __tablename__ = "automation_scan_marks"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


def _unmarked(session: Session, keys: Iterable[str]) -> set[str]:
    wanted = set(keys)
    if not wanted:
        return set()
    seen = set(session.scalars(select(ScanMark.key).where(ScanMark.key.in_(wanted))))
    return wanted - seen


def _emit_once(session: Session, key: str, kind: EventKind, **fields: Any) -> None:
    event = emit(session, kind, **fields)
    session.add(ScanMark(key=key, event_id=event.id))


def _referrals(session: Session, *conditions: Any) -> list[tuple[Referral, str]]:
    rows = session.execute(
        select(Referral, Partner.name).join(Partner, Partner.id == Referral.partner_id).where(*conditions)
    ).all()
    return [(referral, name) for referral, name in rows]


def scan_sla(session: Session, settings: Settings, now: datetime) -> int:
    found = _referrals(
        session,
        # Waiting on us (a partner's referral to review) or on the partner (our request to answer).
        or_(
            and_(Referral.direction == Direction.INBOUND, Referral.status == Status.SUBMITTED),
            and_(Referral.direction == Direction.OUTBOUND, Referral.status == Status.SENT),
        ),
        Referral.sla_due_at < now,
    )
    fresh = _unmarked(session, (f"sla:{r.id}" for r, _ in found))
    for referral, partner_name in found:
        if f"sla:{referral.id}" in fresh:
            _emit_once(
                session,
                f"sla:{referral.id}",
                EventKind.REFERRAL_SLA_BREACHED,
                partner_id=referral.partner_id,
                account_crm_id=referral.account_crm_id,
                sla_due_at=referral.sla_due_at.isoformat(timespec="minutes") if referral.sla_due_at else "",
                **referral_payload(referral, partner_name),
            )
    return len(fresh)


def scan_expiring(session: Session, settings: Settings, today: date) -> int:
    horizon = today + timedelta(days=settings.registration_expiry_warning_days)
    found = _referrals(
        session,
        Referral.kind == Kind.DEAL_REGISTRATION,
        Referral.status == Status.APPROVED,
        Referral.registration_expires_on >= today,
        Referral.registration_expires_on <= horizon,
    )

    def key(referral: Referral) -> str:
        return f"expiring:{referral.id}:{referral.registration_expires_on}"

    fresh = _unmarked(session, (key(r) for r, _ in found))
    for referral, partner_name in found:
        if key(referral) in fresh:
            _emit_once(
                session,
                key(referral),
                EventKind.REGISTRATION_EXPIRING,
                partner_id=referral.partner_id,
                account_crm_id=referral.account_crm_id,
                opportunity_crm_id=referral.opportunity_crm_id,
                expires_on=str(referral.registration_expires_on),
                **referral_payload(referral, partner_name),
            )
    return len(fresh)


def last_activity(session: Session) -> dict[int, date]:
    """Each watched partner's last sign of life: a referral, a touch, a stage change, or joining."""
    moments = union_all(
        select(Referral.partner_id.label("pid"), func.date(Referral.submitted_at).label("on")),
        select(PartnerTouch.partner_id, func.date(PartnerTouch.recorded_at)),
        select(PartnerStageChange.partner_id, PartnerStageChange.changed_on),
        select(Partner.id, Partner.stage_since),
    ).subquery()
    rows = session.execute(
        select(Partner.id, func.max(moments.c.on))
        .join(moments, moments.c.pid == Partner.id)
        .where(Partner.stage.in_([s.value for s in WATCHED_STAGES]))
        .group_by(Partner.id)
    ).all()
    return {pid: last if isinstance(last, date) else date.fromisoformat(str(last)) for pid, last in rows}


def scan_inactive(session: Session, settings: Settings, today: date) -> int:
    days = settings.partner_inactive_days
    quiet = {pid: last for pid, last in last_activity(session).items() if (today - last).days >= days}

    def key(pid: int) -> str:  # one event per quiet spell: new activity starts a new one
        return f"inactive:{pid}:{quiet[pid]}"

    fresh = _unmarked(session, (key(pid) for pid in quiet))
    names = dict(session.execute(select(Partner.id, Partner.name).where(Partner.id.in_(quiet))).all())
    for pid in sorted(quiet):
        if key(pid) in fresh:
            _emit_once(
                session,
                key(pid),
                EventKind.PARTNER_INACTIVE,
                partner_id=pid,
                partner_name=names.get(pid, ""),
                days=(today - quiet[pid]).days,
                last_activity=str(quiet[pid]),
                link=f"/partners/{pid}",
            )
    return len(fresh)


def _first_this_hour(session: Session, name: str, now: datetime) -> bool:
    """True once per clock hour across all workers (the mark's unique key decides), for heavier scans."""
    key = f"ran:{name}:{now:%Y-%m-%dT%H}"
    if not _unmarked(session, [key]):
        return False
    session.add(ScanMark(key=key))
    return True


def scan(session: Session, settings: Settings, now: datetime) -> int:
    """The tick job: emit every time-based event that is due and not emitted before.

    SLA breaches and expiring registrations are read on every tick (few rows, indexed by status);
    quiet partners need every referral, touch and stage change, so they are looked for once an hour.
    """
    today = now.astimezone(settings.tz).date()
    found = scan_sla(session, settings, now) + scan_expiring(session, settings, today)
    if _first_this_hour(session, "inactive", now):
        found += scan_inactive(session, settings, today)
    return found
