"""The Salesforce page (admins): the connection and its figures, connecting (web-server flow or JWT
bearer), the stage map and the history of runs. Every form posts, then comes back to /crm/salesforce
with a message saying what happened or what was wrong (sync, schedule, stages, disconnect: the forms
every CRM connection has, crm/connections/pages.py)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from ecoops.actors import Actor
from ecoops.config import Settings
from ecoops.crm.connections.field_pages import add_field_routes
from ecoops.crm.connections.pages import add_sync_routes, admin, done, sync_sections
from ecoops.crm.salesforce import service
from ecoops.crm.salesforce.fields import SalesforceFields
from ecoops.crm.salesforce.writeback import SALESFORCE
from ecoops.crm.writeback.provider import overview
from ecoops.web.deps import app_settings, db
from ecoops.web.fields import PageNumber
from ecoops.web.security import csrf_protect
from ecoops.web.templating import flash, render

router = APIRouter(dependencies=[Depends(csrf_protect)])
PAGE = "/crm/salesforce"


def _done(request: Request, work: Callable[[], str]) -> Response:
    return done(request, work, PAGE)


@router.get(PAGE)
def salesforce_page(
    request: Request,
    page: PageNumber = 1,
    actor: Actor = Depends(admin),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    connection = service.connection(session, actor)
    return render(
        request,
        "crm/salesforce.html",
        connection=connection,
        **sync_sections(session, actor, service.PROVIDER, connection, page, settings.page_size),
        callback=service.redirect_uri(settings),
        login_urls=service.LOGIN_URLS,
        authorize=service.pending_authorize_url(session, actor, settings),
        writeback=overview(session, actor, SALESFORCE, connection),
    )


@router.post(f"{PAGE}/connect")
def connect_web_server(
    request: Request,
    login_url: str = Form(..., max_length=300),
    client_id: str = Form(..., max_length=300),
    client_secret: str = Form(..., max_length=300),
    actor: Actor = Depends(admin),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    """Keep the connected app's key and secret; the page then links to Salesforce to allow it."""

    def work() -> str:
        service.start_web_server_flow(
            session, actor, settings, login_url=login_url, client_id=client_id, client_secret=client_secret
        )
        return "Now allow ecoops in Salesforce: Continue to Salesforce."

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
    """Salesforce sends the admin back here with a code (or the reason it did not)."""
    if error:
        flash(request, f"Salesforce did not allow the connection: {error}: {error_description}.", "error")
        return RedirectResponse(PAGE, status_code=303)

    def work() -> str:
        row = service.finish_web_server_flow(session, actor, settings, code=code, state=state)
        return f"Connected to Salesforce org {row.org_id} at {row.instance_url}."

    return _done(request, work)


@router.post(f"{PAGE}/jwt")
def connect_jwt(
    request: Request,
    login_url: str = Form(..., max_length=300),
    client_id: str = Form(..., max_length=300),
    username: str = Form(..., max_length=300),
    private_key: str = Form(..., max_length=20_000),
    actor: Actor = Depends(admin),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    def work() -> str:
        row = service.connect_jwt(
            session,
            actor,
            settings,
            login_url=login_url,
            client_id=client_id,
            username=username,
            private_key=private_key,
        )
        return f"Connected to Salesforce org {row.org_id} at {row.instance_url} as {row.username}."

    return _done(request, work)


add_sync_routes(router, service.PROVIDER, PAGE)
add_field_routes(router, service.PROVIDER, PAGE, SalesforceFields, SalesforceFields.objects)
