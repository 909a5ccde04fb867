"""The landing page: internal users go to the partner directory, partner users to their portal."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse

from ecoops.actors import Actor, ActorKind
from ecoops.web.deps import page_actor
from ecoops.web.security import csrf_protect

router = APIRouter(dependencies=[Depends(csrf_protect)])


@router.get("/")
def home(actor: Actor = Depends(page_actor)) -> RedirectResponse:
    return RedirectResponse(
        "/portal" if actor.kind == ActorKind.PARTNER_USER else "/partners", status_code=303
    )
