"""The HubSpot page (admins): the connection and its figures (hub id, scopes, last success, API calls
left today), connecting (a private app's token, or OAuth), the stage map, the history of runs and
write-back (crm/writeback/pages.py).
Every form posts, then comes back to /crm/hubspot with a message saying what happened or what was
wrong (sync, schedule, stages, disconnect: the forms every CRM connection has, crm/connections/pages.py)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from ecoops.actors import Actor
from ecoops.config import Settings
from ecoops.crm.connections.field_pages import add_field_routes
from ecoops.crm.connections.pages import add_sync_routes, admin, done, sync_sections
from ecoops.crm.hubspot import client, service
from ecoops.crm.hubspot.fields import HubSpotFields
from ecoops.crm.hubspot.writeback import HUBSPOT
from ecoops.crm.writeback.pages import add_writeback_routes
from ecoops.crm.writeback.provider import overview
from ecoops.web.deps import app_settings, db
from ecoops.web.fields import PageNumber
from ecoops.web.security import csrf_protect
from ecoops.web.templating import flash, render

router = APIRouter(dependencies=[Depends(csrf_protect)])
PAGE = "/crm/hubspot"


def _done(request: Request, work: Callable[[], str]) -> Response:
    return done(request, work, PAGE)


@router.get(PAGE)
def hubspot_page(
    request: Request,
    page: PageNumber = 1,
    actor: Actor = Depends(admin),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    connection = service.connection(session, actor)
    return render(
        request,
        "crm/hubspot.html",
        connection=connection,
        **sync_sections(session, actor, service.PROVIDER, connection, page, settings.page_size),
        callback=service.redirect_uri(settings),
        scopes=client.SCOPES,
        write_scopes=client.WRITE_SCOPES,
        authorize=service.pending_authorize_url(session, actor, settings),
        writeback=overview(session, actor, HUBSPOT, connection),
    )


@router.post(f"{PAGE}/token")
def connect_private_app(
    request: Request,
    token: str = Form(..., max_length=500),
    actor: Actor = Depends(admin),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    def work() -> str:
        row = service.connect_private_app(session, actor, settings, token=token)
        return f"Connected to HubSpot portal {row.org_id} with a private app."

    return _done(request, work)


@router.post(f"{PAGE}/connect")
def connect_oauth(
    request: Request,
    client_id: str = Form(..., max_length=300),
    client_secret: str = Form(..., max_length=300),
    actor: Actor = Depends(admin),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    """Keep the OAuth app's id and secret; the page then links to HubSpot to install it."""

    def work() -> str:
        service.start_oauth(session, actor, settings, client_id=client_id, client_secret=client_secret)
        return "Now install the app in HubSpot: Continue to HubSpot."

    return _done(request, work)


@router.get(f"{PAGE}/callback")
def callback(
    request: Request,
    code: str = Query("", max_length=2000),
    state: str = Query("", max_length=200),
    error: str = Query("", max_length=200),
    error_description: str = Query("", max_length=1000),
    actor: Actor = Depends(admin),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    """HubSpot sends the admin back here with a code (or the reason it did not)."""
    if error:
        flash(request, f"HubSpot did not allow the connection: {error}: {error_description}.", "error")
        return RedirectResponse(PAGE, status_code=303)

    def work() -> str:
        row = service.finish_oauth(session, actor, settings, code=code, state=state)
        return f"Connected to HubSpot portal {row.org_id} by OAuth."

    return _done(request, work)


add_sync_routes(router, service.PROVIDER, PAGE, stage_param="hubspot_stage_id")
add_writeback_routes(router, HUBSPOT, target_param="hubspot_target", run_param="hubspot_writeback_run_id")
add_field_routes(router, service.PROVIDER, PAGE, HubSpotFields, HubSpotFields.objects)
