"""What a partner has been sent: its nurture enrolments and every delivery about it, for its page."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ecoops.actors import Actor
from ecoops.automation.deliveries import Delivery
from ecoops.automation.nurture.models import NurtureEnrolment
from ecoops.partners.models import Partner
from ecoops.partners.service import readable_partners
from ecoops.permissions import NotFound

SHOWN_DELIVERIES = 100


@dataclass(frozen=True)
class PartnerHistory:
    enrolments: list[NurtureEnrolment]
    deliveries: list[Delivery]  # newest first, at most SHOWN_DELIVERIES
    more: bool  # older deliveries exist beyond those shown


def partner_history(session: Session, actor: Actor, partner_id: int) -> PartnerHistory:
    """Enrolments newest first with each step's fate; deliveries of every source carrying the partner's id."""
    if session.scalar(readable_partners(actor).where(Partner.id == partner_id)) is None:
        raise NotFound(f"no partner {partner_id}")
    enrolments = session.scalars(
        select(NurtureEnrolment)
        .where(NurtureEnrolment.partner_id == partner_id)
        .options(selectinload(NurtureEnrolment.sends), selectinload(NurtureEnrolment.sequence))
        .order_by(NurtureEnrolment.enrolled_at.desc(), NurtureEnrolment.id.desc())
    ).all()
    deliveries = session.scalars(
        select(Delivery)
        .where(Delivery.partner_id == partner_id)
        .order_by(Delivery.created_at.desc(), Delivery.id.desc())
        .limit(SHOWN_DELIVERIES + 1)
    ).all()
    return PartnerHistory(
        list(enrolments), list(deliveries[:SHOWN_DELIVERIES]), len(deliveries) > SHOWN_DELIVERIES
    )
