"""Signed links: managing them (partner managers) and the public no-login form behind each one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor
from ecoops.config import Settings
from ecoops.partners.models import Partner
from ecoops.partners.service import partner_choices
from ecoops.permissions import Permission
from ecoops.referrals import cosell_pages, links
from ecoops.referrals.forms import referral_form
from ecoops.referrals.models import FORM_KINDS, Kind, ReferralLink
from ecoops.referrals.submission import ReferralInput
from ecoops.web.deps import app_settings, db, page_permission, writes_when_read
from ecoops.web.fields import Id
from ecoops.web.security import csrf_protect
from ecoops.web.templating import flash, render

router = APIRouter(dependencies=[Depends(csrf_protect)])
reviewer = page_permission(Permission.EDIT_PROGRAM)


@router.get("/referral-links")
def link_list(
    request: Request,
    actor: Actor = Depends(reviewer),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    partners = partner_choices(session)
    return render(
        request,
        "referrals/links.html",
        links=links.list_links(session, actor),
        url=lambda link: f"{request.base_url}r/{links.link_token(link, settings)}",
        usable=links.is_usable,
        names=dict(partners),
        partners=partners,
    )


@router.post("/referral-links")
def create_link(
    request: Request,
    partner_id: Annotated[Id, Form()],
    days: int = Form(90),
    actor: Actor = Depends(reviewer),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    try:
        links.create_link(session, actor, partner_id=partner_id, days=days, settings=settings)
        flash(request, "Link created: send it to the partner.", "success")
    except InvalidInput as problem:
        flash(request, f"No link created: {problem}", "error")
    return RedirectResponse("/referral-links", status_code=303)


@router.post("/referral-links/{link_id}/revoke")
def revoke_link(
    request: Request, link_id: Id, actor: Actor = Depends(reviewer), session: Session = Depends(db)
) -> Response:
    links.revoke_link(session, actor, link_id)
    flash(request, "Link revoked: it no longer opens the form.", "success")
    return RedirectResponse("/referral-links", status_code=303)


def _too_many(request: Request, problem: links.RateLimited) -> Response:
    return render(request, "error.html", status_code=429, status=429, message=str(problem))


def _public_form(
    request: Request,
    session: Session,
    link: ReferralLink,
    data: ReferralInput,
    status_code: int = 200,
    error: str | None = None,
) -> Response:
    try:
        nonce = links.issue_nonce(session, link)
    except links.RateLimited as problem:
        return _too_many(request, problem)
    return render(
        request,
        "referrals/public_form.html",
        status_code=status_code,
        partner=session.get(Partner, link.partner_id),
        form=data,
        kinds=list(FORM_KINDS),
        nonce=nonce,
        error=error,
    )


@router.get("/r/{link_token}")
@writes_when_read
def public_form(
    request: Request,
    link_token: str,
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    if links.signed_link(session, link_token, settings).referral_id is not None:
        return cosell_pages.answer_page(request, session, link_token, settings)
    link = links.open_link(session, link_token, settings)
    return _public_form(request, session, link, ReferralInput(kind=Kind.DEAL_REGISTRATION, company=""))


@router.post("/r/{link_token}")
def public_submit(
    request: Request,
    link_token: str,
    nonce: str = Form("", max_length=100),
    data: ReferralInput = Depends(referral_form),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    try:
        referral = links.submit_through_link(session, link_token, nonce, data, settings)
    except links.RateLimited as problem:
        return _too_many(request, problem)
    except InvalidInput as problem:
        link = links.open_link(session, link_token, settings)
        return _public_form(request, session, link, data, 400, str(problem))
    return render(request, "referrals/public_thanks.html", referral=referral)
