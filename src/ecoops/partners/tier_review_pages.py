"""The tier review page: open proposals with the figures behind them, approve or dismiss, evaluate now."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor
from ecoops.config import Settings
from ecoops.partners import tier_review
from ecoops.partners.models import ProposalStatus
from ecoops.permissions import Permission
from ecoops.web.deps import app_settings, db, page_permission
from ecoops.web.fields import Id, PageNumber
from ecoops.web.security import csrf_protect
from ecoops.web.templating import flash, render

router = APIRouter(dependencies=[Depends(csrf_protect)])
reviewer = page_permission(Permission.EDIT_PROGRAM)
BACK = "/tier-review"


@router.get("/tier-review")
def review_page(
    request: Request,
    status: ProposalStatus = ProposalStatus.OPEN,
    page: PageNumber = 1,
    actor: Actor = Depends(reviewer),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    proposals = tier_review.list_proposals(session, actor, status=status.value, page=page)
    return render(
        request,
        "partners/tier_review.html",
        proposals=proposals,
        status=status.value,
        statuses=list(ProposalStatus),
        today=settings.today(),
    )


@router.post("/tier-review/evaluate")
def evaluate_now(
    request: Request,
    actor: Actor = Depends(reviewer),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    found = tier_review.evaluate(session, actor, settings, settings.today())
    flash(
        request,
        f"Evaluated {found.evaluated} partner membership(s) as of {found.as_of.isoformat()}: "
        f"{len(found.proposed)} new proposal(s).",
        "success",
    )
    return RedirectResponse(BACK, status_code=303)


@router.post("/tier-review/{proposal_id}/approve")
def approve(
    request: Request,
    proposal_id: Id,
    note: str = Form("", max_length=10000),
    actor: Actor = Depends(reviewer),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    try:
        proposal = tier_review.approve(session, actor, proposal_id, today=settings.today(), note=note)
    except InvalidInput as exc:
        flash(request, f"Nothing was changed: {exc}.", "error")
    else:
        if proposal.status == ProposalStatus.STALE:
            flash(request, f"Proposal #{proposal.id} {proposal.note}.", "error")
        else:
            flash(request, f"{proposal.partner.name} is now in {proposal.to_tier.name}.", "success")
    return RedirectResponse(BACK, status_code=303)


@router.post("/tier-review/{proposal_id}/dismiss")
def dismiss(
    request: Request,
    proposal_id: Id,
    note: str = Form("", max_length=10000),
    actor: Actor = Depends(reviewer),
    session: Session = Depends(db),
) -> Response:
    try:
        proposal = tier_review.dismiss(session, actor, proposal_id, note=note)
    except InvalidInput as exc:
        flash(request, f"Nothing was changed: {exc}.", "error")
    else:
        flash(request, f"Proposal #{proposal.id} for {proposal.partner.name} dismissed.", "success")
    return RedirectResponse(BACK, status_code=303)
