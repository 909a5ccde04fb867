"""The landing page: partner users go to their portal, sellers to the co-sell list of their own accounts
(what partners have of them, with whom to ask for help), partner managers to their partners' recent
changes, pending reviews and goals, everyone else to the partner directory."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from ecoops.accounts.models import User
from ecoops.actors import Actor, ActorKind, Role
from ecoops.config import Settings
from ecoops.goals import plan
from ecoops.goals.service import METRIC_LABELS
from ecoops.partners.manager_home import manager_home
from ecoops.permissions import Permission, allowed
from ecoops.web.deps import app_settings, db, page_actor, page_permission
from ecoops.web.security import csrf_protect
from ecoops.web.templating import render

router = APIRouter(dependencies=[Depends(csrf_protect)])


@router.get("/")
def home(actor: Actor = Depends(page_actor), session: Session = Depends(db)) -> RedirectResponse:
    if actor.kind == ActorKind.PARTNER_USER:
        return RedirectResponse("/portal", status_code=303)
    if actor.role == Role.SALES and actor.id is not None:
        # The CRM's owner field holds people's names, as the users' names do.
        user = session.get(User, actor.id)
        return RedirectResponse(f"/mapping/co-sell?{urlencode({'owner': user.name if user else ''})}", 303)
    if actor.role == Role.PARTNER_MANAGER:
        return RedirectResponse("/home/partners", status_code=303)
    return RedirectResponse("/partners", status_code=303)


@router.get("/home/partners")
def my_partners(
    request: Request,
    actor: Actor = Depends(page_permission(Permission.READ_PROGRAM)),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    goals = []
    if actor.id is not None and allowed(actor, Permission.READ_METRICS):
        keys = plan.reader_scope_keys(session, actor.id)  # the workspace's, theirs, their partners'
        goals = plan.lines(session, actor, settings, keys, settings.today())
    return render(
        request,
        "home/partners.html",
        home=manager_home(session, actor),
        goals=goals,
        goal_metrics=METRIC_LABELS,
    )
