"""The partner portal's landing page; internal users are sent to their own start page."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from ecoops.accounts.service import MIN_PASSWORD_LENGTH
from ecoops.actors import Actor
from ecoops.portal import service
from ecoops.web.deps import db, page_actor
from ecoops.web.security import csrf_protect
from ecoops.web.templating import render

router = APIRouter(dependencies=[Depends(csrf_protect)])


@router.get("/portal")
def portal(request: Request, actor: Actor = Depends(page_actor), session: Session = Depends(db)) -> Response:
    if actor.is_internal:
        # Links to the portal get shared around; an internal user following one lands on its own start.
        return RedirectResponse("/", status_code=303)
    return render(
        request,
        "portal/home.html",
        home=service.portal_home(session, actor),
        min_password_length=MIN_PASSWORD_LENGTH,
    )
