"""Portal pages for partner users: their referrals both ways, submitting one, inviting colleagues."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from ecoops.accounts.contacts import ACCESS_PATTERN, PORTAL_ACCESS, ContactEdit, edit_contact
from ecoops.accounts.pages import contact_edit_form
from ecoops.accounts.service import InvalidInput, create_partner_user
from ecoops.actors import Actor
from ecoops.config import Settings
from ecoops.portal.deps import partner_user
from ecoops.referrals import outbound, queries
from ecoops.referrals.access import get_referral
from ecoops.referrals.export import csv_response, referrals_csv
from ecoops.referrals.forms import referral_form
from ecoops.referrals.models import FORM_KINDS, Kind, Via
from ecoops.referrals.submission import ReferralInput, submit
from ecoops.web.deps import app_settings, db
from ecoops.web.fields import Id, PageNumber
from ecoops.web.security import csrf_protect
from ecoops.web.templating import flash, render

router = APIRouter(dependencies=[Depends(csrf_protect)])


@router.get("/portal/referrals")
def referrals(
    request: Request,
    page: PageNumber = 1,
    actor: Actor = Depends(partner_user),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    result = queries.search_referrals(
        session, actor, queries.ReferralFilters(), page=page, per_page=settings.page_size
    )
    return render(request, "portal/referrals.html", page=result)


def _submit_form(
    request: Request, data: ReferralInput, status_code: int = 200, error: str | None = None
) -> Response:
    return render(
        request, "portal/submit.html", status_code=status_code, form=data, kinds=list(FORM_KINDS), error=error
    )


@router.get("/portal/referrals/export.csv")
def export(actor: Actor = Depends(partner_user), session: Session = Depends(db)) -> Response:
    return csv_response(referrals_csv(session, actor))


@router.get("/portal/referrals/new")
def new_referral(request: Request, actor: Actor = Depends(partner_user)) -> Response:
    return _submit_form(request, ReferralInput(kind=Kind.DEAL_REGISTRATION, company=""))


@router.post("/portal/referrals")
def create_referral(
    request: Request,
    data: ReferralInput = Depends(referral_form),
    actor: Actor = Depends(partner_user),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    try:
        referral = submit(session, actor, data, settings=settings, via=Via.PORTAL)
    except InvalidInput as problem:
        return _submit_form(request, data, 400, str(problem))
    flash(request, "Submitted. Your partner manager reviews it; its status shows here.", "success")
    return RedirectResponse(f"/portal/referrals/{referral.id}", status_code=303)


@router.get("/portal/referrals/{referral_id}")
def referral_detail(
    request: Request, referral_id: Id, actor: Actor = Depends(partner_user), session: Session = Depends(db)
) -> Response:
    referral = get_referral(session, actor, referral_id)
    return render(request, "portal/referral.html", referral=referral, who=queries.signers(session, referral))


@router.post("/portal/referrals/{referral_id}/answer")
def answer(
    request: Request,
    referral_id: Id,
    accept: bool = Form(...),
    reason: str = Form("", max_length=10_000),
    actor: Actor = Depends(partner_user),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    try:
        outbound.respond(session, actor, referral_id, accept=accept, settings=settings, reason=reason)
    except InvalidInput as problem:
        flash(request, f"Not recorded: {problem}", "error")
    return RedirectResponse(f"/portal/referrals/{referral_id}", status_code=303)


@router.post("/portal/colleagues")
def invite_colleague(
    request: Request,
    email: str = Form("", max_length=254),
    name: str = Form("", max_length=200),
    password: str = Form("", max_length=1024),
    contact_role: str = Form("", max_length=20),
    access: str = Form(PORTAL_ACCESS, pattern=ACCESS_PATTERN),
    actor: Actor = Depends(partner_user),
    session: Session = Depends(db),
) -> Response:
    """Partner admins add colleagues of their own partner (the accounts service checks it)."""
    assert actor.partner_id is not None  # a partner user always has one
    try:
        user = create_partner_user(
            session,
            actor,
            partner_id=actor.partner_id,
            email=email,
            name=name,
            password=password,
            contact_role=contact_role,
            can_sign_in=access == PORTAL_ACCESS,
        )
    except InvalidInput as problem:
        flash(request, f"Not added: {problem}.", "error")
    else:
        done = "can now sign in at /login with the password you chose" if user.can_sign_in else "is a contact"
        flash(request, f"{user.email} {done}.", "success")
    return RedirectResponse("/portal", status_code=303)


@router.post("/portal/colleagues/{partner_user_id}")
def edit_colleague(
    request: Request,
    partner_user_id: Id,
    edit: ContactEdit = Depends(contact_edit_form),
    actor: Actor = Depends(partner_user),
    session: Session = Depends(db),
) -> Response:
    """A partner admin sets a colleague's role, sign-in and admin rights (own partner only)."""
    try:
        contact = edit_contact(session, actor, partner_user_id, edit)
    except InvalidInput as problem:
        flash(request, f"Not changed: {problem}.", "error")
    else:
        flash(request, f"Saved {contact.email}.", "success")
    return RedirectResponse("/portal", status_code=303)
