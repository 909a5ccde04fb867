"""Pages of influence logs: logging from an account's page (or one of its opportunities), from the
partner portal, deciding on a log, and downloading its file (docs/influence.md)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor
from ecoops.attribution import influence
from ecoops.attribution.models import Activity
from ecoops.attribution.review import Decision
from ecoops.config import Settings
from ecoops.crm import service as crm
from ecoops.crm.models import Account
from ecoops.partners.service import partner_choices
from ecoops.permissions import Permission
from ecoops.portal.deps import partner_user
from ecoops.web.deps import app_settings, db, page_actor, page_permission
from ecoops.web.fields import Id, PageNumber
from ecoops.web.security import csrf_protect
from ecoops.web.templating import flash, render

router = APIRouter(dependencies=[Depends(csrf_protect)])
crm_reader = page_permission(Permission.READ_CRM)
HELP = (
    "Log what the partner did, with evidence a reviewer can check. It counts in the figures once the "
    "deal's owner or a partner manager confirms it."
)


def logger(actor: Actor = Depends(crm_reader)) -> Actor:
    influence.require_logger(actor)
    return actor


def _optional_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip()) if value.strip() else None
    except ValueError:
        raise InvalidInput(f"date: {value!r} is not a date (YYYY-MM-DD)") from None


def _evidence(file: UploadFile | None) -> influence.Evidence | None:
    # A file input left empty still arrives, nameless and empty: that is no file.
    if file is None or not file.filename:
        return None
    return influence.Evidence(file.file, file.filename)


def _account_form(
    request: Request,
    session: Session,
    actor: Actor,
    account: Account,
    values: dict[str, str],
    status_code: int = 200,
    error: str | None = None,
) -> Response:
    return render(
        request,
        "attribution/influence_form.html",
        status_code=status_code,
        account=account,
        opportunities=crm.account_opportunities(session, actor, account),
        partners=partner_choices(session),
        activities=list(Activity),
        values=values,
        error=error,
        help=HELP,
    )


@router.get("/accounts/{account_id}/influence/new")
def new_log(
    request: Request,
    account_id: Id,
    opportunity: str = "",
    actor: Actor = Depends(logger),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    """The form, with the opportunity chosen on the account page and today's date in place."""
    account = crm.get_account(session, actor, account_id)
    values = {"opportunity_crm_id": opportunity, "happened_on": settings.today().isoformat()}
    return _account_form(request, session, actor, account, values)


@router.post("/accounts/{account_id}/influence")
def log_on_account(
    request: Request,
    account_id: Id,
    partner_id: str = Form(""),
    activity: str = Form(""),
    happened_on: str = Form(""),
    note: str = Form("", max_length=10_000),
    link: str = Form("", max_length=10_000),
    opportunity_crm_id: str = Form("", max_length=64),
    file: UploadFile | None = File(None),
    actor: Actor = Depends(logger),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    account = crm.get_account(session, actor, account_id)
    values = {
        "partner_id": partner_id,
        "activity": activity,
        "happened_on": happened_on,
        "note": note,
        "link": link,
        "opportunity_crm_id": opportunity_crm_id,
    }
    try:
        if not partner_id.isdigit():
            raise InvalidInput("partner: choose the partner that did it")
        data = influence.LogInput(
            partner_id=int(partner_id),
            activity=activity,
            happened_on=_optional_date(happened_on),
            note=note,
            link=link,
            opportunity_crm_id=opportunity_crm_id,
            account_crm_id=account.crm_id,
        )
        log = influence.log_influence(session, actor, data, settings, _evidence(file))
    except InvalidInput as problem:
        return _account_form(request, session, actor, account, values, 400, str(problem))
    flash(
        request,
        f"Logged; it waits for the deal owner's or a partner manager's decision (#{log.id})",
        "success",
    )
    return RedirectResponse(f"/accounts/{account.id}#influence", status_code=303)


@router.post("/influence/{log_id}/decision")
def decide(
    request: Request,
    log_id: Id,
    decision: Decision = Form(...),
    reason: str = Form("", max_length=10_000),
    actor: Actor = Depends(crm_reader),
    session: Session = Depends(db),
) -> Response:
    row = influence.get_log(session, actor, log_id)
    account_id = session.scalar(select(Account.id).where(Account.crm_id == row.log.account_crm_id))
    try:
        influence.decide(session, actor, log_id, decision, reason)
        flash(request, f"Influence log #{log_id} {row.touch.status}", "success")
    except InvalidInput as problem:
        flash(request, str(problem), "error")
    return RedirectResponse(
        f"/accounts/{account_id}#influence" if account_id else "/accounts", status_code=303
    )


@router.get("/influence/{log_id}/file")
def download(
    log_id: Id,
    actor: Actor = Depends(page_actor),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    """The evidence file, always as a download (never shown inline, whatever it holds)."""
    path, name = influence.evidence_file(session, actor, log_id, settings)
    return FileResponse(path, media_type="application/octet-stream", filename=name)


# --- the partner portal -------------------------------------------------------------------------------


@router.get("/portal/influence")
def portal_logs(
    request: Request,
    page: PageNumber = 1,
    actor: Actor = Depends(partner_user),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    """The partner's own logs and what became of each."""
    result = influence.search_logs(session, actor, page=page, per_page=settings.page_size)
    return render(request, "portal/influence.html", page=result)


def _portal_form(
    request: Request,
    session: Session,
    actor: Actor,
    values: dict[str, str],
    status_code: int = 200,
    error: str | None = None,
) -> Response:
    deals = {
        f"{opp}|{account}": name for (opp, account), name in influence.partner_deals(session, actor).items()
    }
    return render(
        request,
        "portal/influence_form.html",
        status_code=status_code,
        deals=deals,
        activities=list(Activity),
        values=values,
        error=error,
        help=HELP,
    )


@router.get("/portal/influence/new")
def portal_new_log(
    request: Request,
    actor: Actor = Depends(partner_user),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    return _portal_form(request, session, actor, {"happened_on": settings.today().isoformat()})


@router.post("/portal/influence")
def portal_log(
    request: Request,
    deal: str = Form("", max_length=200),
    activity: str = Form(""),
    happened_on: str = Form(""),
    note: str = Form("", max_length=10_000),
    link: str = Form("", max_length=10_000),
    file: UploadFile | None = File(None),
    actor: Actor = Depends(partner_user),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    values = {"deal": deal, "activity": activity, "happened_on": happened_on, "note": note, "link": link}
    opportunity_crm_id, _, account_crm_id = deal.partition("|")
    assert actor.partner_id is not None  # a partner user's
    try:
        if not deal:
            raise InvalidInput("deal: choose the deal you worked on")
        data = influence.LogInput(
            partner_id=actor.partner_id,
            activity=activity,
            happened_on=_optional_date(happened_on),
            note=note,
            link=link,
            opportunity_crm_id=opportunity_crm_id,
            account_crm_id=account_crm_id,
        )
        log = influence.log_influence(session, actor, data, settings, _evidence(file))
    except InvalidInput as problem:
        return _portal_form(request, session, actor, values, 400, str(problem))
    flash(request, f"Logged (#{log.id}); we will confirm it or tell you why not", "success")
    return RedirectResponse("/portal/influence", status_code=303)
