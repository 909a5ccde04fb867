"""Finance's partner-funds page: allocate a quarter's budget, decide requests and claims, read the proof."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor
from ecoops.commissions import funds
from ecoops.commissions.pages import finance
from ecoops.commissions.plans import money
from ecoops.config import Settings
from ecoops.partners.service import partner_choices
from ecoops.web.deps import app_settings, db
from ecoops.web.fields import MAX_ID, Id
from ecoops.web.security import csrf_protect
from ecoops.web.templating import flash, render

router = APIRouter(dependencies=[Depends(csrf_protect)])
BACK = "/commissions/funds"


@router.get("/commissions/funds")
def funds_page(
    request: Request,
    actor: Actor = Depends(finance),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    return render(
        request,
        "commissions/funds.html",
        allocations=funds.overview(session, actor),
        partners=partner_choices(session),
        money=money,
        currency=settings.currency,
    )


@router.post("/commissions/funds/allocations")
def allocate(
    request: Request,
    partner_id: int = Form(..., ge=1, le=MAX_ID),
    period: str = Form(..., max_length=7),
    amount: str = Form(..., max_length=20),
    actor: Actor = Depends(finance),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    try:
        allocation = funds.allocate(session, actor, partner_id, period, amount, settings.currency)
    except InvalidInput as problem:
        flash(request, f"Not allocated: {problem}", "error")
    else:
        flash(
            request,
            f"Allocated {money(allocation.amount_cents, allocation.currency)} for {period}.",
            "success",
        )
    return RedirectResponse(BACK, status_code=303)


@router.post("/commissions/funds/{request_id}/decision")
def decide_request(
    request: Request,
    request_id: Id,
    approve: bool = Form(...),
    reason: str = Form("", max_length=2000),
    actor: Actor = Depends(finance),
    session: Session = Depends(db),
) -> Response:
    try:
        found = funds.decide_request(session, actor, request_id, approve, reason)
    except InvalidInput as problem:
        flash(request, f"Nothing changed: {problem}", "error")
    else:
        flash(request, f"Request {found.id} {found.status}.", "success")
    return RedirectResponse(BACK, status_code=303)


@router.post("/commissions/funds/claims/{claim_id}/decision")
def decide_claim(
    request: Request,
    claim_id: Id,
    approve: bool = Form(...),
    reason: str = Form("", max_length=2000),
    actor: Actor = Depends(finance),
    session: Session = Depends(db),
) -> Response:
    try:
        found = funds.decide_claim(session, actor, claim_id, approve, reason)
    except InvalidInput as problem:
        flash(request, f"Nothing changed: {problem}", "error")
    else:
        reimbursed = f": reimbursed by ledger line #{found.entry_id}" if found.entry_id else ""
        flash(request, f"Claim on request {found.id} {found.claim_status}{reimbursed}.", "success")
    return RedirectResponse(BACK, status_code=303)


@router.get("/commissions/funds/claims/{claim_id}/proof")
def claim_proof(
    claim_id: Id,
    actor: Actor = Depends(finance),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    path, name = funds.proof(session, actor, claim_id, settings.var_dir)
    return FileResponse(path, filename=name, content_disposition_type="attachment")
