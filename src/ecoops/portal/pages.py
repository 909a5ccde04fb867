"""The partner portal's landing page with its own figures; internal users are sent to their own start."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from ecoops.accounts.service import MIN_PASSWORD_LENGTH
from ecoops.actors import Actor
from ecoops.config import Settings
from ecoops.mapping.sharing import SharedCounts, shared_view
from ecoops.maturity import integrations
from ecoops.portal import service
from ecoops.portal.figures import portal_figures
from ecoops.referrals import links
from ecoops.web.deps import app_settings, db, page_actor
from ecoops.web.security import csrf_protect
from ecoops.web.templating import render

router = APIRouter(dependencies=[Depends(csrf_protect)])


@router.get("/portal")
def portal(
    request: Request,
    actor: Actor = Depends(page_actor),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    if actor.is_internal:
        # Links to the portal get shared around; an internal user following one lands on its own start.
        return RedirectResponse("/", status_code=303)
    home = service.portal_home(session, actor)
    figures = portal_figures(session, actor, settings, settings.today())
    shared = links.partner_links(session, actor) if home.is_partner_admin else []
    return render(
        request,
        "portal/home.html",
        home=home,
        figures=figures,
        link_urls=[f"{request.base_url}r/{links.link_token(link, settings)}" for link in shared],
        min_password_length=MIN_PASSWORD_LENGTH,
        registration_default=settings.registration_window_days,
    )


@router.get("/portal/overlaps")
def overlaps(
    request: Request, actor: Actor = Depends(page_actor), session: Session = Depends(db)
) -> Response:
    """The accounts we share with the partner, exactly as our sharing rules allow (and nothing more)."""
    if actor.is_internal or actor.partner_id is None:
        return RedirectResponse("/", status_code=303)
    shown = shared_view(session, actor, actor.partner_id)
    return render(request, "portal/overlaps.html", shown=shown, counts=SharedCounts(shown))


@router.get("/portal/integrations")
def integrations_page(
    request: Request, actor: Actor = Depends(page_actor), session: Session = Depends(db)
) -> Response:
    """The partner's own integrations with our product and their status, read-only."""
    if actor.is_internal or actor.partner_id is None:
        return RedirectResponse("/", status_code=303)
    found = integrations.partner_integrations(session, actor)
    return render(request, "portal/integrations.html", integrations=found)
