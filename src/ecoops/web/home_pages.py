"""The landing page: partner users go to their portal, sellers to the co-sell list of their own accounts
(what partners have of them, with whom to ask for help), everyone else to the partner directory."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from ecoops.accounts.models import User
from ecoops.actors import Actor, ActorKind, Role
from ecoops.web.deps import db, page_actor
from ecoops.web.security import csrf_protect

router = APIRouter(dependencies=[Depends(csrf_protect)])


@router.get("/")
def home(actor: Actor = Depends(page_actor), session: Session = Depends(db)) -> RedirectResponse:
    if actor.kind == ActorKind.PARTNER_USER:
        return RedirectResponse("/portal", status_code=303)
    if actor.role == Role.SALES and actor.id is not None:
        # The CRM's owner field holds people's names, as the users' names do.
        user = session.get(User, actor.id)
        return RedirectResponse(f"/mapping/co-sell?{urlencode({'owner': user.name if user else ''})}", 303)
    return RedirectResponse("/partners", status_code=303)
