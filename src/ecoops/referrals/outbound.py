"""Outbound referrals: our sellers refer a customer to a partner, or ask it for an intro; the partner
accepts or declines, and an accepted request about one of our accounts counts as a co-sell touch."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor, ActorKind
from ecoops.attribution.models import PartnerTouch, TouchKind
from ecoops.audit import utcnow
from ecoops.config import Settings
from ecoops.crm.models import Opportunity
from ecoops.events import EventKind
from ecoops.referrals.access import get_referral, require_referrer, set_status
from ecoops.referrals.events import emit_referral_event
from ecoops.referrals.models import Direction, Referral, Status, Via
from ecoops.referrals.review import MAX_REASON
from ecoops.referrals.submission import ReferralInput, new_referral


def refer_out(
    session: Session,
    actor: Actor,
    data: ReferralInput,
    *,
    partner_id: int,
    settings: Settings,
    via: Via,
    account_crm_id: str = "",
) -> Referral:
    """Send the partner a referral or request; `account_crm_id` names our account it is about."""
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
    referral.account_crm_id = account_crm_id
    audit.record(
        session, actor, "referral.sent", "referral", referral.id, partner_id=partner_id, kind=referral.kind
    )
    emit_referral_event(session, EventKind.REFERRAL_SUBMITTED, referral, submitted_by=actor.label)
    return referral


def respond(
    session: Session, actor: Actor, referral_id: int, *, accept: bool, settings: Settings, reason: str = ""
) -> Referral:
    """The partner's answer from its portal; only its own partner users may give it."""
    referral = get_referral(session, actor, referral_id)  # NotFound for other partners' referrals
    if actor.kind != ActorKind.PARTNER_USER:
        raise InvalidInput("the partner answers an outbound referral, from its portal")
    return answer(session, actor, referral, accept=accept, settings=settings, reason=reason)


def answer(
    session: Session, actor: Actor, referral: Referral, *, accept: bool, settings: Settings, reason: str = ""
) -> Referral:
    """Record the partner's answer once, whoever asks first (the portal or the e-mailed link)."""
    reason = reason.strip()
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"reason is too long (at most {MAX_REASON} characters)")
    status = Status.ACCEPTED if accept else Status.DECLINED
    # One conditional write decides the race: a concurrent answer waits for the row (PostgreSQL) or the
    # write lock (SQLite), then finds it no longer `sent` and changes nothing.
    claimed = session.execute(
        update(Referral)
        .where(
            Referral.id == referral.id,
            Referral.direction == Direction.OUTBOUND,
            Referral.status == Status.SENT,
        )
        .values(status=status.value)
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        session.refresh(referral)
        raise InvalidInput(f"referral #{referral.id} is {referral.status}, not waiting for an answer")
    referral.status = Status.SENT.value  # as it was read: the history records the move from it
    referral.reason = reason
    referral.decided_at = utcnow()
    set_status(referral, actor, status, reason)
    if accept and referral.account_crm_id:
        _record_co_sell(session, actor, referral, settings)
    audit.record(session, actor, f"referral.{status.value}", "referral", referral.id, reason=reason)
    kind = EventKind.REFERRAL_APPROVED if accept else EventKind.REFERRAL_REJECTED
    emit_referral_event(session, kind, referral, reviewer=actor.label, reason=reason)
    return referral


def _record_co_sell(session: Session, actor: Actor, referral: Referral, settings: Settings) -> None:
    """A confirmed co-sell touch on the account's open opportunity (the newest), else on the account."""
    opportunity = session.scalar(
        select(Opportunity.crm_id)
        .where(Opportunity.account_crm_id == referral.account_crm_id, ~Opportunity.is_closed)
        .order_by(Opportunity.created_on.desc(), Opportunity.id.desc())
    )
    referral.opportunity_crm_id = opportunity or ""
    session.add(
        PartnerTouch(
            partner_id=referral.partner_id,
            opportunity_crm_id=referral.opportunity_crm_id,
            account_crm_id=referral.account_crm_id,
            kind=TouchKind.CO_SELL.value,
            touched_on=settings.today(),  # the partner's help begins with its yes
            evidence_type="referral",
            evidence_ref=str(referral.id),
            note=f"{referral.kind.replace('_', ' ')} #{referral.id} accepted by {actor.label}",
            recorded_by=actor.label,
        )
    )
    session.flush()
