"""The routing rules page: which seller receives approved leads from which country."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.accounts.models import User
from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor
from ecoops.permissions import Permission
from ecoops.referrals import routing
from ecoops.web.deps import db, page_permission
from ecoops.web.fields import Id
from ecoops.web.security import csrf_protect
from ecoops.web.templating import flash, render

router = APIRouter(dependencies=[Depends(csrf_protect)])
reviewer = page_permission(Permission.EDIT_PROGRAM)


@router.get("/referral-territories")
def territories(
    request: Request, actor: Actor = Depends(reviewer), session: Session = Depends(db)
) -> Response:
    sellers = session.scalars(select(User).where(User.is_active).order_by(User.name)).all()
    return render(
        request, "referrals/territories.html", rules=routing.territories(session, actor), sellers=sellers
    )


@router.post("/referral-territories")
def set_territory(
    request: Request,
    seller_id: Annotated[Id, Form()],
    country: str = Form("", max_length=80),
    actor: Actor = Depends(reviewer),
    session: Session = Depends(db),
) -> Response:
    try:
        rule = routing.set_territory(session, actor, country=country, seller_id=seller_id)
        flash(request, f"Leads from {rule.country} now go to the chosen seller.", "success")
    except InvalidInput as problem:
        flash(request, f"Not saved: {problem}", "error")
    return RedirectResponse("/referral-territories", status_code=303)


@router.post("/referral-territories/{territory_id}/delete")
def remove_territory(
    request: Request, territory_id: Id, actor: Actor = Depends(reviewer), session: Session = Depends(db)
) -> Response:
    routing.remove_territory(session, actor, territory_id)
    flash(
        request,
        "Rule removed: leads from that country go round robin unless the account has an owner.",
        "success",
    )
    return RedirectResponse("/referral-territories", status_code=303)
