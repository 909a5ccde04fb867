"""Who sees and changes which referral; every referral query starts from `readable_referrals`."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from ecoops.actors import Actor, ActorKind, Role
from ecoops.audit import utcnow
from ecoops.permissions import Forbidden, NotFound, Permission, allowed, require
from ecoops.referrals.models import Referral, ReferralStatusChange


def readable_referrals(actor: Actor) -> Select[Referral]:
    """Internal readers of the program see every referral; a partner user only its own partner's."""
    statement = select(Referral)
    if actor.kind == ActorKind.PARTNER_USER:
        return statement.where(Referral.partner_id == actor.partner_id)
    require(actor, Permission.READ_PROGRAM)
    return statement


def get_referral(session: Session, actor: Actor, referral_id: int) -> Referral:
    """The referral, or NotFound when it does not exist or belongs to another partner (same answer)."""
    referral = session.scalar(
        readable_referrals(actor).where(Referral.id == referral_id).options(selectinload(Referral.history))
    )
    if referral is None:
        raise NotFound(f"no referral {referral_id}")
    return referral


def require_reviewer(actor: Actor) -> None:
    """Partner managers (and ops, admins) review inbound referrals: whoever may edit the program."""
    require(actor, Permission.EDIT_PROGRAM)


def may_refer_out(actor: Actor) -> bool:
    """Sellers and partner managers refer customers to partners; viewers only look."""
    return actor.is_internal and allowed(actor, Permission.READ_PROGRAM) and actor.role != Role.VIEWER


def require_referrer(actor: Actor) -> None:
    if not may_refer_out(actor):
        raise Forbidden(f"{actor.label} may not refer accounts to partners")


def set_status(referral: Referral, actor: Actor, status: str, reason: str = "") -> None:
    """Move the referral to `status` and keep the move in its history (which the partner sees)."""
    referral.history.append(
        ReferralStatusChange(
            from_status=referral.status or None,
            to_status=status,
            changed_at=utcnow(),
            changed_by=actor.label,
            reason=reason,
        )
    )
    referral.status = status
