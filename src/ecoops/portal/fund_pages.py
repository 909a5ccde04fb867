"""Portal pages for partner users: their partner funds (MDF): allocations, requests, claims with proof."""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor
from ecoops.commissions import funds
from ecoops.commissions.plans import money
from ecoops.config import Settings
from ecoops.portal.deps import partner_user
from ecoops.web.deps import app_settings, db
from ecoops.web.fields import MAX_ID, Id
from ecoops.web.security import csrf_protect
from ecoops.web.templating import flash, render

router = APIRouter(dependencies=[Depends(csrf_protect)])
BACK = "/portal/funds"


@router.get("/portal/funds")
def funds_page(
    request: Request,
    actor: Actor = Depends(partner_user),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    return render(
        request,
        "portal/funds.html",
        allocations=funds.overview(session, actor),
        money=money,
        currency=settings.currency,
        proof_types=", ".join(funds.PROOF_TYPES),
    )


@router.post("/portal/funds/requests")
def request_funds(
    request: Request,
    allocation_id: int = Form(..., ge=1, le=MAX_ID),
    activity: str = Form("", max_length=2000),
    budget: str = Form("", max_length=20),
    opportunity_crm_id: str = Form("", max_length=64),
    actor: Actor = Depends(partner_user),
    session: Session = Depends(db),
) -> Response:
    try:
        found = funds.request_funds(session, actor, allocation_id, activity, budget, opportunity_crm_id)
    except InvalidInput as problem:
        flash(request, f"Not requested: {problem}", "error")
    else:
        flash(request, f"Requested {money(found.budget_cents)}; we review it and answer here.", "success")
    return RedirectResponse(BACK, status_code=303)


@router.post("/portal/funds/{request_id}/claim")
def claim(
    request: Request,
    request_id: Id,
    amount: str = Form("", max_length=20),
    proof: UploadFile = File(...),
    actor: Actor = Depends(partner_user),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    data = proof.file.read(funds.MAX_PROOF_BYTES + 1)
    try:
        found = funds.submit_claim(
            session, actor, request_id, amount, data, proof.filename or "", settings.var_dir
        )
    except InvalidInput as problem:
        flash(request, f"Not claimed: {problem}", "error")
    else:
        flash(request, f"Claimed {money(found.claimed_cents)} with {found.proof_filename}.", "success")
    return RedirectResponse(BACK, status_code=303)


@router.get("/portal/funds/{request_id}/proof")
def own_proof(
    request_id: Id,
    actor: Actor = Depends(partner_user),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    path, name = funds.proof(session, actor, request_id, settings.var_dir)
    return FileResponse(path, filename=name, content_disposition_type="attachment")
