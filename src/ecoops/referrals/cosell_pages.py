"""Co-sell pages: the prefilled "Ask the partner for help" form, and the public answer behind an
e-mailed link (shown at /r/{token} by `link_pages`)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor
from ecoops.config import Settings
from ecoops.crm.models import Account
from ecoops.mapping.overlaps import partner_or_404
from ecoops.partners.models import Partner
from ecoops.referrals import answer_links, cosell
from ecoops.referrals.forms import referral_form
from ecoops.referrals.pages import referrer
from ecoops.referrals.submission import ReferralInput
from ecoops.web.deps import app_settings, db
from ecoops.web.fields import Id
from ecoops.web.security import csrf_protect
from ecoops.web.templating import flash, render

router = APIRouter(dependencies=[Depends(csrf_protect)])


def _form(
    request: Request,
    session: Session,
    partner_id: int,
    crm_id: str,
    data: ReferralInput,
    status_code: int = 200,
    error: str | None = None,
) -> Response:
    return render(
        request,
        "referrals/cosell_form.html",
        status_code=status_code,
        partner=partner_or_404(session, partner_id),
        account=session.scalar(select(Account).where(Account.crm_id == crm_id)),
        form=data,
        kinds=cosell.ASKABLE_KINDS,
        error=error,
    )


@router.get("/mapping/partners/{mapped_partner_id}/co-sell/{our_crm_id}")
def ask_form(
    request: Request,
    mapped_partner_id: Id,
    our_crm_id: str,
    actor: Actor = Depends(referrer),
    session: Session = Depends(db),
) -> Response:
    """The request, prefilled with only what the partner's sharing shows it: send as is, or edit."""
    data = cosell.prefill(session, actor, partner_id=mapped_partner_id, account_crm_id=our_crm_id)
    return _form(request, session, mapped_partner_id, our_crm_id, data)


@router.post("/mapping/partners/{mapped_partner_id}/co-sell/{our_crm_id}")
def ask(
    request: Request,
    mapped_partner_id: Id,
    our_crm_id: str,
    data: ReferralInput = Depends(referral_form),
    actor: Actor = Depends(referrer),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    try:
        referral = cosell.ask_for_help(
            session, actor, data, partner_id=mapped_partner_id, account_crm_id=our_crm_id, settings=settings
        )
    except InvalidInput as problem:
        return _form(request, session, mapped_partner_id, our_crm_id, data, 400, str(problem))
    flash(request, "Sent to the partner's portal and contacts; its answer will show here.", "success")
    return RedirectResponse(f"/referrals/{referral.id}", status_code=303)


def answer_page(request: Request, session: Session, token: str, settings: Settings) -> Response:
    """What a partner contact sees behind the e-mailed link: the request, Accept and Decline."""
    try:
        _, referral = answer_links.open_answer_link(session, token, settings)
    except answer_links.Gone as gone:
        raise HTTPException(410, str(gone)) from None
    return render(
        request,
        "referrals/answer.html",
        referral=referral,
        partner=session.get(Partner, referral.partner_id),
        token=token,
    )


@router.post("/r/{answer_token}/answer")
def answer(
    request: Request,
    answer_token: str,
    accept: bool = Form(...),
    reason: str = Form("", max_length=10_000),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    try:
        referral = answer_links.answer_through_link(
            session, answer_token, accept=accept, reason=reason, settings=settings
        )
    except answer_links.Gone as gone:
        raise HTTPException(410, str(gone)) from None
    return render(request, "referrals/answered.html", referral=referral)
