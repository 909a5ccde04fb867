"""Internal referral pages: the inbox, a referral with its conflicts and review, outbound referrals."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from ecoops.accounts.service import InvalidInput, user_names
from ecoops.actors import Actor
from ecoops.config import Settings
from ecoops.crm.models import Account, Opportunity
from ecoops.crm.service import by_crm_id
from ecoops.enablement.panels import referral_panel
from ecoops.partners.models import Partner
from ecoops.partners.service import partner_choices
from ecoops.permissions import Permission, allowed
from ecoops.referrals import outbound, queries, review
from ecoops.referrals.access import get_referral, require_referrer
from ecoops.referrals.export import csv_response, referrals_csv
from ecoops.referrals.forms import referral_form
from ecoops.referrals.models import FORM_KINDS, Direction, Kind, Status, Via
from ecoops.referrals.submission import ReferralInput
from ecoops.referrals.suggestion import suggest_partners
from ecoops.web.deps import app_settings, db, page_actor, page_permission
from ecoops.web.fields import Id, PageNumber
from ecoops.web.security import csrf_protect
from ecoops.web.templating import flash, render

router = APIRouter(dependencies=[Depends(csrf_protect)])
reader = page_permission(Permission.READ_PROGRAM)
reviewer = page_permission(Permission.EDIT_PROGRAM)


async def referrer(actor: Actor = Depends(page_actor)) -> Actor:
    require_referrer(actor)
    return actor


@router.get("/referrals")
def inbox(
    request: Request,
    direction: str = "",
    status: str = "",
    kind: str = "",
    partner_id: Id | None = None,
    mine: bool = False,
    overdue: bool = False,
    page: PageNumber = 1,
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    filters = queries.ReferralFilters(direction, status, kind, partner_id, mine, overdue)
    result = queries.search_referrals(session, actor, filters, page=page, per_page=settings.page_size)
    return render(
        request,
        "referrals/inbox.html",
        page=result,
        filters=filters,
        names=queries.partner_names(session, result.items),
        partners=partner_choices(session),
        overdue=queries.is_overdue,
        exchange=queries.give_and_get(session, actor, partner_id) if partner_id is not None else None,
        directions=list(Direction),
        statuses=list(Status),
        kinds=list(Kind),
    )


@router.get("/referrals/export.csv")
def export(actor: Actor = Depends(reader), session: Session = Depends(db)) -> Response:
    return csv_response(referrals_csv(session, actor))


@router.get("/referrals/{referral_id}")
def detail(
    request: Request, referral_id: Id, actor: Actor = Depends(reader), session: Session = Depends(db)
) -> Response:
    referral = get_referral(session, actor, referral_id)
    return render(
        request,
        "referrals/detail.html",
        referral=referral,
        partner=session.get(Partner, referral.partner_id),
        people=user_names(session, {referral.reviewer_id, referral.assigned_seller_id}),
        who=queries.signers(session, referral),
        accounts=by_crm_id(session, actor, Account, [referral.account_crm_id]),
        opportunities=by_crm_id(session, actor, Opportunity, [referral.opportunity_crm_id]),
        overdue=queries.is_overdue(referral),
        touches=queries.touches_of(session, referral),
        may_review=allowed(actor, Permission.EDIT_PROGRAM) and referral.status == Status.SUBMITTED,
        enablement=referral_panel(session, actor, referral),
    )


@router.post("/referrals/{referral_id}/approve")
def approve(
    request: Request,
    referral_id: Id,
    reason: str = Form("", max_length=10_000),
    actor: Actor = Depends(reviewer),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    try:
        referral = review.approve(session, actor, referral_id, settings=settings, reason=reason)
        if referral.routed_by:
            flash(
                request, f"Approved and handed to sales ({referral.routed_by.replace('_', ' ')}).", "success"
            )
        else:
            flash(request, "Approved; no active sales user to hand it to: assign it in the CRM.", "info")
    except InvalidInput as problem:
        flash(request, f"Not approved: {problem}", "error")
    return RedirectResponse(f"/referrals/{referral_id}", status_code=303)


@router.post("/referrals/{referral_id}/reject")
def reject(
    request: Request,
    referral_id: Id,
    reason: str = Form("", max_length=10_000),
    actor: Actor = Depends(reviewer),
    session: Session = Depends(db),
) -> Response:
    try:
        review.reject(session, actor, referral_id, reason)
        flash(request, "Rejected; the partner sees the reason.", "success")
    except InvalidInput as problem:
        flash(request, f"Not rejected: {problem}", "error")
    return RedirectResponse(f"/referrals/{referral_id}", status_code=303)


def _outbound_form(
    request: Request, session: Session, data: ReferralInput, status_code: int = 200, **context: object
) -> Response:
    return render(
        request,
        "referrals/outbound.html",
        status_code=status_code,
        form=data,
        partners=partner_choices(session),
        suggestions=suggest_partners(session, company=data.company, domain=data.domain, country=data.country)
        if data.country or data.company or data.domain
        else [],
        kinds=list(FORM_KINDS),
        **context,
    )


@router.get("/outbound-referrals/new")
def new_outbound(
    request: Request,
    company: str = Query("", max_length=200),
    domain: str = Query("", max_length=253),
    country: str = Query("", max_length=80),
    actor: Actor = Depends(referrer),
    session: Session = Depends(db),
) -> Response:
    data = ReferralInput(kind=Kind.EQL, company=company, domain=domain, country=country)
    return _outbound_form(request, session, data, error=None, partner_id=None)


@router.post("/outbound-referrals")
def create_outbound(
    request: Request,
    partner_id: Annotated[Id, Form()],
    data: ReferralInput = Depends(referral_form),
    actor: Actor = Depends(referrer),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    try:
        referral = outbound.refer_out(
            session, actor, data, partner_id=partner_id, settings=settings, via=Via.INTERNAL
        )
    except InvalidInput as problem:
        return _outbound_form(request, session, data, 400, error=str(problem), partner_id=partner_id)
    flash(request, "Referral sent to the partner; its answer will show here.", "success")
    return RedirectResponse(f"/referrals/{referral.id}", status_code=303)
