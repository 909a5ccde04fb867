"""REST routes about the caller under /api/v1."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from ecoops.accounts import service
from ecoops.accounts.schemas import MeOut
from ecoops.actors import Actor, Role
from ecoops.permissions import ROLE_PERMISSIONS
from ecoops.web.deps import api_actor, db

router = APIRouter(tags=["users"])


@router.get("/me", response_model=MeOut)
def me(actor: Actor = Depends(api_actor), session: Session = Depends(db)) -> MeOut:
    """The user behind the token, with its role and permissions."""
    user = service.own_user(session, actor)
    role = Role(user.role)
    return MeOut(
        id=user.id,
        email=user.email,
        name=user.name,
        role=role,
        permissions=sorted(ROLE_PERMISSIONS[role]),
        last_login_at=user.last_login_at,
    )
