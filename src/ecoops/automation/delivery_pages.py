"""Pages: the delivery log (rule, recipient, channel, status), dead letters with retry, webhook endpoints."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor
from ecoops.automation import delivery_log, endpoint_admin
from ecoops.automation.deliveries import Channel, DeliveryStatus
from ecoops.config import Settings
from ecoops.permissions import Permission
from ecoops.web.deps import app_settings, db, page_permission
from ecoops.web.fields import Id, PageNumber
from ecoops.web.security import csrf_protect
from ecoops.web.templating import flash, render

router = APIRouter(dependencies=[Depends(csrf_protect)])
manager = page_permission(Permission.MANAGE_AUTOMATION)


def _log_page(
    request: Request,
    session: Session,
    actor: Actor,
    settings: Settings,
    filters: delivery_log.LogFilter,
    page: int,
) -> Response:
    return render(
        request,
        "automation/deliveries.html",
        page=delivery_log.log(session, actor, filters, page=page, per_page=settings.page_size),
        counts=delivery_log.counts_by_status(session, actor),
        filters=filters,
        channels=[c.value for c in Channel],
        statuses=[s.value for s in DeliveryStatus],
        endpoints={str(e.id): e for e in endpoint_admin.endpoints(session, actor)},
        dead_letters=request.url.path.endswith("/dead"),
    )


@router.get("/automation/deliveries")
def deliveries(
    request: Request,
    rule: Id | None = None,
    recipient: str = Query("", max_length=200),
    channel: str = Query("", max_length=10),
    status: str = Query("", max_length=10),
    page: PageNumber = 1,
    actor: Actor = Depends(manager),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    filters = delivery_log.LogFilter(
        rule_id=rule,
        recipient=recipient.strip(),
        channel=channel,
        status=status,
    )
    return _log_page(request, session, actor, settings, filters, page)


@router.get("/automation/deliveries/dead")
def dead_letters(
    request: Request,
    channel: str = Query("", max_length=10),
    page: PageNumber = 1,
    actor: Actor = Depends(manager),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    filters = delivery_log.LogFilter(channel=channel, status=DeliveryStatus.DEAD.value)
    return _log_page(request, session, actor, settings, filters, page)


@router.post("/automation/deliveries/{delivery_id}/retry")
def retry(
    request: Request, delivery_id: Id, actor: Actor = Depends(manager), session: Session = Depends(db)
) -> Response:
    delivery = delivery_log.retry(session, actor, delivery_id)
    flash(request, f"Delivery {delivery.id} to {delivery.target} will be sent again shortly.", "success")
    return RedirectResponse("/automation/deliveries/dead", status_code=303)


@router.post("/automation/deliveries/retry-dead")
def retry_all(
    request: Request,
    channel: str = Form("", max_length=10),
    actor: Actor = Depends(manager),
    session: Session = Depends(db),
) -> Response:
    count = delivery_log.retry_all_dead(session, actor, channel=channel)
    flash(
        request, f"{count} dead deliver{'y' if count == 1 else 'ies'} will be sent again shortly.", "success"
    )
    return RedirectResponse("/automation/deliveries/dead", status_code=303)


@router.get("/automation/webhooks")
def webhooks(request: Request, actor: Actor = Depends(manager), session: Session = Depends(db)) -> Response:
    return render(request, "automation/webhooks.html", endpoints=endpoint_admin.endpoints(session, actor))


@router.post("/automation/webhooks")
def add_webhook(
    request: Request,
    name: str = Form("", max_length=200),
    url: str = Form("", max_length=2000),
    allow_private: bool = Form(False),
    actor: Actor = Depends(manager),
    session: Session = Depends(db),
) -> Response:
    try:
        endpoint = endpoint_admin.create(session, actor, name=name, url=url, allow_private=allow_private)
    except InvalidInput as problem:
        flash(request, f"Not added: {problem}", "error")
        return RedirectResponse("/automation/webhooks", status_code=303)
    # The secret is shown on this response only: it is not displayed again.
    return render(
        request,
        "automation/webhooks.html",
        endpoints=endpoint_admin.endpoints(session, actor),
        created=endpoint,
    )


@router.post("/automation/webhooks/{endpoint_id}/enabled")
def set_enabled(
    request: Request,
    endpoint_id: Id,
    enabled: bool = Form(...),
    actor: Actor = Depends(manager),
    session: Session = Depends(db),
) -> Response:
    endpoint = endpoint_admin.set_enabled(session, actor, endpoint_id, enabled)
    flash(request, f"{endpoint.name} is {'enabled' if enabled else 'disabled'}.", "success")
    return RedirectResponse("/automation/webhooks", status_code=303)


@router.post("/automation/webhooks/{endpoint_id}/allow-private")
def set_allow_private(
    request: Request,
    endpoint_id: Id,
    allow: bool = Form(...),
    actor: Actor = Depends(page_permission(Permission.ALLOW_PRIVATE_WEBHOOKS)),
    session: Session = Depends(db),
) -> Response:
    endpoint = endpoint_admin.set_allow_private(session, actor, endpoint_id, allow)
    verb = "may now reach" if allow else "may no longer reach"
    flash(request, f"{endpoint.name} {verb} private addresses.", "success")
    return RedirectResponse("/automation/webhooks", status_code=303)
