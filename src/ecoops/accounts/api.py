"""REST routes about the caller under /api/v1."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from ecoops.accounts import service
from ecoops.accounts.models import PartnerUser
from ecoops.accounts.schemas import MeOut
from ecoops.actors import Actor, ActorKind, Role
from ecoops.permissions import ROLE_PERMISSIONS
from ecoops.web.deps import api_actor, db

router = APIRouter(tags=["users"])


@router.get("/me", response_model=MeOut)
def me(actor: Actor = Depends(api_actor), session: Session = Depends(db)) -> MeOut:
    """The user or partner user behind the token, with its role and permissions (or its partner)."""
    if actor.kind == ActorKind.PARTNER_USER:
        partner_user = session.get(PartnerUser, actor.id)
        assert partner_user is not None  # the token was just checked against it
        return MeOut(
            id=partner_user.id,
            kind=actor.kind,
            email=partner_user.email,
            name=partner_user.name,
            role=None,
            partner_id=partner_user.partner_id,
            permissions=[],
            last_login_at=partner_user.last_login_at,
        )
    user = service.own_user(session, actor)
    role = Role(user.role)
    return MeOut(
        id=user.id,
        kind=actor.kind,
        email=user.email,
        name=user.name,
        role=role,
        partner_id=None,
        permissions=sorted(ROLE_PERMISSIONS[role]),
        last_login_at=user.last_login_at,
    )
