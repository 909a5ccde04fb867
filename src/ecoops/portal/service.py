"""What a partner user sees of its own partner; every read is narrowed to the actor's partner."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecoops.accounts.models import PartnerUser, User
from ecoops.actors import Actor, ActorKind
from ecoops.partners.models import Partner
from ecoops.partners.service import get_partner
from ecoops.permissions import Forbidden
from ecoops.referrals.access import readable_referrals
from ecoops.referrals.models import Referral
from ecoops.referrals.queries import GiveAndGet, give_and_get


@dataclass(frozen=True)
class PortalHome:
    partner: Partner
    manager: User | None  # the partner manager on our side, the partner's contact person
    is_partner_admin: bool
    colleagues: list[PartnerUser]  # shown to partner admins, who may invite more
    referral_counts: dict[str, int]  # status -> how many of the partner's referrals
    exchange: GiveAndGet  # what the partner sent us and what we sent it


def require_partner_user(actor: Actor) -> None:
    if actor.kind != ActorKind.PARTNER_USER or actor.partner_id is None:
        raise Forbidden("the portal is for partner users")


def portal_home(session: Session, actor: Actor) -> PortalHome:
    """The partner user's own partner and who manages it for us."""
    require_partner_user(actor)
    assert actor.partner_id is not None
    partner = get_partner(session, actor, actor.partner_id, history=False)
    manager = session.get(User, partner.owner_id) if partner.owner_id else None
    is_admin = bool(session.scalar(select(PartnerUser.is_partner_admin).where(PartnerUser.id == actor.id)))
    colleagues = session.scalars(
        select(PartnerUser).where(PartnerUser.partner_id == partner.id).order_by(func.lower(PartnerUser.name))
    )
    counts = session.execute(
        readable_referrals(actor).with_only_columns(Referral.status, func.count()).group_by(Referral.status)
    )
    return PortalHome(
        partner=partner,
        manager=manager if manager and manager.is_active else None,
        is_partner_admin=is_admin,
        colleagues=list(colleagues) if is_admin else [],
        referral_counts={status: count for status, count in counts},
        exchange=give_and_get(session, actor, partner.id),
    )
