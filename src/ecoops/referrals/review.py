"""Review of inbound referrals: approve (hand-off to sales, opportunity, partner touch) or reject."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.accounts.models import User
from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor
from ecoops.attribution.models import PartnerTouch, TouchKind
from ecoops.audit import utcnow
from ecoops.config import Settings
from ecoops.crm.models import Account, Opportunity
from ecoops.events import EventKind
from ecoops.partners.models import Partner
from ecoops.partners.tier_terms import registration_window
from ecoops.referrals.access import get_referral, require_reviewer, set_status
from ecoops.referrals.companies import CompanyKeys, check_conflicts, matching_accounts
from ecoops.referrals.events import emit_referral_event
from ecoops.referrals.models import Direction, Kind, Referral, Status
from ecoops.referrals.queries import as_utc
from ecoops.referrals.routing import route

MAX_REASON = 2000
TOUCH_KINDS = {Kind.EQL: TouchKind.REFERRAL, Kind.DEAL_REGISTRATION: TouchKind.DEAL_REGISTRATION}


def _pending(session: Session, actor: Actor, referral_id: int) -> Referral:
    require_reviewer(actor)
    referral = get_referral(session, actor, referral_id)
    if referral.direction != Direction.INBOUND or referral.status != Status.SUBMITTED:
        raise InvalidInput(f"referral #{referral.id} is {referral.status}, not waiting for review")
    return referral


def _reason(reason: str, *, required: bool) -> str:
    reason = reason.strip()
    if required and not reason:
        raise InvalidInput("give the partner a reason")
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"reason is too long (at most {MAX_REASON} characters)")
    return reason


def reject(session: Session, actor: Actor, referral_id: int, reason: str) -> Referral:
    referral = _pending(session, actor, referral_id)
    referral.reason = _reason(reason, required=True)
    referral.reviewer_id = actor.id
    referral.decided_at = utcnow()
    set_status(referral, actor, Status.REJECTED, referral.reason)
    audit.record(session, actor, "referral.rejected", "referral", referral.id, reason=referral.reason)
    emit_referral_event(
        session, EventKind.REFERRAL_REJECTED, referral, reviewer=actor.label, reason=referral.reason
    )
    return referral


def _opportunity(
    session: Session, referral: Referral, account: Account | None, seller: User | None, settings: Settings
) -> Opportunity:
    """The account's open opportunity if it has one, else a new one for sales to take on in the CRM."""
    if account is not None:
        existing = session.scalar(
            select(Opportunity)
            .where(Opportunity.account_crm_id == account.crm_id, ~Opportunity.is_closed)
            .order_by(Opportunity.created_on.desc(), Opportunity.id.desc())
        )
        if existing is not None:
            return existing
    partner = session.get(Partner, referral.partner_id)
    opportunity = Opportunity(
        crm_id=f"ecoops-referral-{referral.id}",
        account_crm_id=account.crm_id if account else "",
        name=f"{referral.company} (partner referral #{referral.id})",
        stage="Referral approved",
        amount=referral.estimated_value,
        currency=settings.currency,
        original_amount=referral.estimated_value,
        created_on=settings.today(),
        owner=seller.name if seller else "",
        lead_source="Partner referral",
        partner_source=partner.name if partner else "",
    )
    session.add(opportunity)
    return opportunity


def approve(
    session: Session, actor: Actor, referral_id: int, *, settings: Settings, reason: str = ""
) -> Referral:
    """Approve, hand the lead to sales, link or create its opportunity and record the partner touch."""
    referral = _pending(session, actor, referral_id)
    today = settings.today()
    keys = CompanyKeys(referral.domain_key, referral.name_key, referral.country)
    if referral.kind == Kind.DEAL_REGISTRATION:
        current = check_conflicts(
            session,
            keys,
            kind=referral.kind,
            partner_id=referral.partner_id,
            today=today,
            exclude_id=referral.id,
        )
        held = [c for c in current if c.code == "registered_elsewhere"]
        if held:
            raise InvalidInput(f"first come, first served: {held[0].message}; reject this one instead")
    accounts = matching_accounts(session, keys)
    account = accounts[0] if accounts else None
    seller, routed_by = route(session, referral, account)
    opportunity = _opportunity(session, referral, account, seller, settings)
    referral.reason = _reason(reason, required=False)
    referral.reviewer_id = actor.id
    referral.decided_at = utcnow()
    referral.assigned_seller_id = seller.id if seller else None
    referral.routed_by = routed_by
    referral.account_crm_id = account.crm_id if account else ""
    referral.opportunity_crm_id = opportunity.crm_id
    if referral.kind == Kind.DEAL_REGISTRATION:
        days = registration_window(session, referral.partner_id, settings.registration_window_days)
        referral.registration_expires_on = today + timedelta(days=days)
    set_status(referral, actor, Status.APPROVED, referral.reason)
    session.add(
        PartnerTouch(
            partner_id=referral.partner_id,
            opportunity_crm_id=opportunity.crm_id,
            account_crm_id=referral.account_crm_id,
            kind=TOUCH_KINDS[Kind(referral.kind)].value,
            # The partner's claim dates from its submission, not from our review.
            touched_on=as_utc(referral.submitted_at).astimezone(settings.tz).date(),
            evidence_type="referral",
            evidence_ref=str(referral.id),
            note=f"{referral.kind.replace('_', ' ')} #{referral.id} approved by {actor.label}",
            recorded_by=actor.label,
        )
    )
    session.flush()
    audit.record(
        session,
        actor,
        "referral.approved",
        "referral",
        referral.id,
        seller_id=referral.assigned_seller_id,
        routed_by=routed_by,
        opportunity_crm_id=opportunity.crm_id,
    )
    emit_referral_event(
        session,
        EventKind.REFERRAL_APPROVED,
        referral,
        reviewer=actor.label,
        reason=referral.reason,
        account_owner=account.owner if account else "",
        seller=seller.name if seller else "",
    )
    return referral
