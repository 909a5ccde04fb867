"""Outbound referrals: our sellers refer a customer to a partner; the partner accepts or declines."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor, ActorKind
from ecoops.audit import utcnow
from ecoops.config import Settings
from ecoops.events import EventKind
from ecoops.referrals.access import get_referral, require_referrer, set_status
from ecoops.referrals.events import emit_referral_event
from ecoops.referrals.models import Direction, Referral, Status, Via
from ecoops.referrals.review import MAX_REASON
from ecoops.referrals.submission import ReferralInput, new_referral


def refer_out(
    session: Session, actor: Actor, data: ReferralInput, *, partner_id: int, settings: Settings, via: Via
) -> Referral:
    require_referrer(actor)
    referral = new_referral(
        session,
        actor,
        data,
        direction=Direction.OUTBOUND,
        partner_id=partner_id,
        via=via,
        status=Status.SENT,
        settings=settings,
    )
    audit.record(session, actor, "referral.sent", "referral", referral.id, partner_id=partner_id)
    emit_referral_event(session, EventKind.REFERRAL_SUBMITTED, referral, submitted_by=actor.label)
    return referral


def respond(session: Session, actor: Actor, referral_id: int, *, accept: bool, reason: str = "") -> Referral:
    """The partner's answer to an outbound referral; only its own partner users may give it."""
    referral = get_referral(session, actor, referral_id)  # NotFound for other partners' referrals
    if actor.kind != ActorKind.PARTNER_USER:
        raise InvalidInput("the partner answers an outbound referral, from its portal")
    if referral.direction != Direction.OUTBOUND or referral.status != Status.SENT:
        raise InvalidInput(f"referral #{referral.id} is {referral.status}, not waiting for an answer")
    reason = reason.strip()
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"reason is too long (at most {MAX_REASON} characters)")
    referral.reason = reason
    referral.decided_at = utcnow()
    status = Status.ACCEPTED if accept else Status.DECLINED
    set_status(referral, actor, status, reason)
    audit.record(session, actor, f"referral.{status.value}", "referral", referral.id, reason=reason)
    kind = EventKind.REFERRAL_APPROVED if accept else EventKind.REFERRAL_REJECTED
    emit_referral_event(session, kind, referral, reviewer=actor.label, reason=reason)
    return referral
