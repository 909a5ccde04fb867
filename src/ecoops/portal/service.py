"""What a partner user sees of its own partner; every read is narrowed to the actor's partner."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from ecoops.accounts.models import User
from ecoops.actors import Actor, ActorKind
from ecoops.partners.models import Partner
from ecoops.partners.service import get_partner
from ecoops.permissions import Forbidden


@dataclass(frozen=True)
class PortalHome:
    partner: Partner
    manager: User | None  # the partner manager on our side, the partner's contact person


def portal_home(session: Session, actor: Actor) -> PortalHome:
    """The partner user's own partner and who manages it for us."""
    if actor.kind != ActorKind.PARTNER_USER or actor.partner_id is None:
        raise Forbidden("the portal is for partner users")
    partner = get_partner(session, actor, actor.partner_id)
    manager = session.get(User, partner.owner_id) if partner.owner_id else None
    return PortalHome(partner=partner, manager=manager if manager and manager.is_active else None)
