"""The events referrals emit (submitted, approved, rejected), in the transaction of the change."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.events import EventKind, emit
from ecoops.partners.models import Partner
from ecoops.referrals.models import Referral


def referral_payload(referral: Referral, partner_name: str) -> dict[str, Any]:
    """What every referral event carries, for rule conditions and message templates."""
    return {
        "referral_id": referral.id,
        "referral_kind": referral.kind,
        "direction": referral.direction,
        "company": referral.company,
        "partner_name": partner_name,
        "amount": None if referral.estimated_value is None else str(referral.estimated_value),
        "link": f"/referrals/{referral.id}",
    }


def emit_referral_event(session: Session, kind: EventKind, referral: Referral, **extra: Any) -> None:
    partner_name = session.scalar(select(Partner.name).where(Partner.id == referral.partner_id)) or ""
    emit(
        session,
        kind,
        partner_id=referral.partner_id,
        account_crm_id=referral.account_crm_id,
        opportunity_crm_id=referral.opportunity_crm_id,
        **referral_payload(referral, partner_name),
        **extra,
    )
