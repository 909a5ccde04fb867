"""REST routes for tier review under /api/v1: evaluate now, list proposals, approve or dismiss one."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from ecoops.actors import Actor
from ecoops.config import Settings
from ecoops.partners import tier_review
from ecoops.partners.models import ProposalStatus
from ecoops.partners.schemas import (
    DecisionIn,
    EvaluationIn,
    EvaluationOut,
    TierProposalOut,
    TierProposalPageOut,
)
from ecoops.permissions import Permission
from ecoops.web.deps import api_permission, app_settings, db
from ecoops.web.errors import ErrorOut
from ecoops.web.fields import Id, PageNumber, PerPage

router = APIRouter(tags=["tier review"])
reviewer = api_permission(Permission.EDIT_PROGRAM)


@router.post("/tier-evaluations", response_model=EvaluationOut)
def evaluate(
    body: EvaluationIn,
    actor: Actor = Depends(reviewer),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> EvaluationOut:
    """Evaluate every partner against its program's tier criteria as of `as_of` (today); the new proposals."""
    found = tier_review.evaluate(session, actor, settings, body.as_of or settings.today())
    return EvaluationOut(
        as_of=found.as_of,
        evaluated=found.evaluated,
        proposed=[TierProposalOut.model_validate(p) for p in found.proposed],
    )


@router.get("/tier-proposals", response_model=TierProposalPageOut)
def list_proposals(
    status: ProposalStatus = ProposalStatus.OPEN,
    page: PageNumber = 1,
    per_page: PerPage = 50,
    actor: Actor = Depends(reviewer),
    session: Session = Depends(db),
) -> TierProposalPageOut:
    """Tier proposals of one status (open by default), newest first, with the figures behind each."""
    found = tier_review.list_proposals(session, actor, status=status.value, page=page, per_page=per_page)
    return TierProposalPageOut(
        items=[TierProposalOut.model_validate(p) for p in found.items],
        total=found.total,
        page=found.page,
        per_page=found.per_page,
    )


@router.post(
    "/tier-proposals/{proposal_id}/approve",
    response_model=TierProposalOut,
    responses={409: {"model": ErrorOut, "description": "stale: the partner's tier changed since"}},
)
def approve(
    proposal_id: Id,
    body: DecisionIn,
    actor: Actor = Depends(reviewer),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> TierProposalOut | JSONResponse:
    """Apply the proposed tier, dated today in the partner's history.

    409 (and the proposal marked stale) when the partner's tier changed since the evaluation;
    400 when it is no longer open."""
    proposal = tier_review.approve(session, actor, proposal_id, today=settings.today(), note=body.note)
    if proposal.status == ProposalStatus.STALE:
        # Not raised: the stale mark is committed with the request.
        return JSONResponse({"detail": proposal.note}, status_code=409)
    return TierProposalOut.model_validate(proposal)


@router.post("/tier-proposals/{proposal_id}/dismiss", response_model=TierProposalOut)
def dismiss(
    proposal_id: Id, body: DecisionIn, actor: Actor = Depends(reviewer), session: Session = Depends(db)
) -> TierProposalOut:
    """Dismiss the proposal; the same move is not proposed again for 90 days unless the tier changes."""
    return TierProposalOut.model_validate(tier_review.dismiss(session, actor, proposal_id, note=body.note))
