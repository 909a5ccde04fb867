"""The "Private mapping" page of a partner: invitation (code shown once), redeeming a partner's code,
the connection's state, the exchanges run over it with their counts and bytes, run now, schedule,
revoke, and the limits of private matching stated plainly."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor
from ecoops.config import Settings
from ecoops.engines.psi import EXACT_KEY_RECALL
from ecoops.jobs.names import exchange_subject
from ecoops.jobs.queue import latest_job
from ecoops.mapping.overlaps import partner_or_404
from ecoops.permissions import Permission
from ecoops.psi import connections, exchange
from ecoops.psi.models import ConnectionState, PsiConnection, PsiExchange
from ecoops.psi.results import private_counts
from ecoops.web.deps import app_settings, db, page_permission
from ecoops.web.fields import Id
from ecoops.web.security import csrf_protect
from ecoops.web.templating import flash, render

router = APIRouter(dependencies=[Depends(csrf_protect)])
reader = page_permission(Permission.READ_MAPPING)
manager = page_permission(Permission.MANAGE_MAPPING)
# The measured cost of exact keys against the trusted fuzzy matcher (bench/psi, docs/private-mapping.md).
RECALL_NOTE = (
    f"{EXACT_KEY_RECALL.sentence()} So private matching misses some pairs trusted mapping finds, mostly "
    "names spelt differently with no shared domain."
)


def _page(
    request: Request,
    session: Session,
    actor: Actor,
    partner_id: int,
    *,
    code: str = "",
    status: int = 200,
) -> Response:
    partner = partner_or_404(session, partner_id)
    connection = connections.current_connection(session, partner_id)
    exchanges = list(
        session.scalars(
            select(PsiExchange)
            .join(PsiConnection, PsiConnection.id == PsiExchange.connection_id)
            .where(PsiConnection.partner_id == partner_id)
            .order_by(PsiExchange.id.desc())
            .limit(10)
        )
    )
    return render(
        request,
        "psi/private.html",
        status_code=status,
        partner=partner,
        connection=connection,
        states=ConnectionState,
        exchanges=exchanges,
        counts=private_counts(session, partner_id),
        job=latest_job(session, actor, exchange_subject(partner_id)),
        code=code,
        recall_note=RECALL_NOTE,
    )


def _back(partner_id: int) -> RedirectResponse:
    return RedirectResponse(f"/mapping/partners/{partner_id}/private", status_code=303)


@router.get("/mapping/partners/{partner_id}/private")
def private_page(
    request: Request, partner_id: Id, actor: Actor = Depends(reader), session: Session = Depends(db)
) -> Response:
    return _page(request, session, actor, partner_id)


@router.post("/mapping/partners/{partner_id}/private/invitations")
def invite(
    request: Request,
    partner_id: Id,
    interval_hours: int = Form(24),
    actor: Actor = Depends(manager),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    partner_or_404(session, partner_id)
    try:
        _, code = connections.create_invitation(
            session, actor, settings, partner_id, interval_hours=interval_hours
        )
    except InvalidInput as exc:
        flash(request, str(exc), "error")
        return _back(partner_id)
    # The code is shown on this response only: it is stored as a hash and cannot be shown again.
    return _page(request, session, actor, partner_id, code=code, status=201)


@router.post("/mapping/partners/{partner_id}/private/redeem")
def redeem(
    request: Request,
    partner_id: Id,
    code: str = Form(...),
    interval_hours: int = Form(0),
    actor: Actor = Depends(manager),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    partner_or_404(session, partner_id)
    try:
        connection = connections.redeem(
            session, actor, settings, partner_id, code, interval_hours=interval_hours
        )
    except InvalidInput as exc:
        flash(request, str(exc), "error")
    else:
        flash(
            request,
            f"connected to {connection.peer_url}: run an exchange when both sides are ready",
            "success",
        )
    return _back(partner_id)


@router.post("/mapping/partners/{partner_id}/private/run")
def run_now(
    request: Request,
    partner_id: Id,
    actor: Actor = Depends(manager),
    session: Session = Depends(db),
) -> Response:
    partner_or_404(session, partner_id)
    connection = connections.current_connection(session, partner_id)
    if connection is None or connection.state != ConnectionState.ACTIVE:
        flash(request, "no active connection to run an exchange over", "error")
    elif exchange.queue_run(session, actor, connection) is None:
        flash(request, "an exchange is already under way: its progress is shown below", "error")
    else:
        # The worker runs it (jobs/kinds.py); the page follows its progress.
        flash(request, "exchange queued", "success")
    return _back(partner_id)


@router.post("/mapping/partners/{partner_id}/private/schedule")
def schedule(
    request: Request,
    partner_id: Id,
    interval_hours: int = Form(...),
    actor: Actor = Depends(manager),
    session: Session = Depends(db),
) -> Response:
    partner_or_404(session, partner_id)
    try:
        connections.set_interval(session, actor, partner_id, interval_hours)
    except InvalidInput as exc:
        flash(request, str(exc), "error")
    else:
        flash(request, "schedule saved", "success")
    return _back(partner_id)


@router.post("/mapping/partners/{partner_id}/private/revoke")
def revoke(
    request: Request,
    partner_id: Id,
    actor: Actor = Depends(manager),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    partner_or_404(session, partner_id)
    try:
        flash(request, connections.revoke(session, actor, settings, partner_id), "success")
    except InvalidInput as exc:
        flash(request, str(exc), "error")
    return _back(partner_id)
