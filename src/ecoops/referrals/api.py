"""REST routes for referrals under /api/v1, for internal users' tokens (docs/referrals.md says why)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from ecoops.actors import Actor
from ecoops.config import Settings
from ecoops.permissions import Permission
from ecoops.referrals import outbound, queries, review
from ecoops.referrals.access import get_referral, require_referrer
from ecoops.referrals.models import Via
from ecoops.referrals.schemas import DecisionIn, ReferralIn, ReferralOut, ReferralPageOut, SuggestionOut
from ecoops.referrals.submission import submit
from ecoops.referrals.suggestion import suggest_partners
from ecoops.web.deps import api_actor, api_permission, app_settings, db
from ecoops.web.fields import Id, PageNumber, PerPage

router = APIRouter(tags=["referrals"])
reader = api_permission(Permission.READ_PROGRAM)
reviewer = api_permission(Permission.EDIT_PROGRAM)


async def referrer(actor: Actor = Depends(api_actor)) -> Actor:
    require_referrer(actor)
    return actor


@router.get("/referrals", response_model=ReferralPageOut)
def list_referrals(
    direction: str = "",
    status: str = "",
    kind: str = "",
    partner_id: Id | None = None,
    mine: bool = False,
    overdue: bool = False,
    page: PageNumber = 1,
    per_page: PerPage = 50,
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
) -> ReferralPageOut:
    """Referrals in both directions, newest first; `overdue` keeps those waiting past their review SLA."""
    filters = queries.ReferralFilters(direction, status, kind, partner_id, mine, overdue)
    result = queries.search_referrals(session, actor, filters, page=page, per_page=per_page)
    return ReferralPageOut(
        items=[ReferralOut.model_validate(r) for r in result.items],
        total=result.total,
        page=result.page,
        per_page=result.per_page,
    )


@router.post("/partners/{partner_id}/referrals", response_model=ReferralOut, status_code=201)
def create_referral(
    partner_id: Id,
    body: ReferralIn,
    actor: Actor = Depends(reviewer),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> ReferralOut:
    """Enter an inbound referral or deal registration on a partner's behalf; conflicts come back with it."""
    referral = submit(session, actor, body.to_input(), settings=settings, via=Via.API, partner_id=partner_id)
    return ReferralOut.model_validate(referral)


@router.post("/partners/{partner_id}/outbound-referrals", response_model=ReferralOut, status_code=201)
def create_outbound(
    partner_id: Id,
    body: ReferralIn,
    actor: Actor = Depends(referrer),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> ReferralOut:
    """Refer one of our accounts to a partner."""
    referral = outbound.refer_out(
        session, actor, body.to_input(), partner_id=partner_id, settings=settings, via=Via.API
    )
    return ReferralOut.model_validate(referral)


@router.get("/referrals/suggestions", response_model=list[SuggestionOut])
def suggestions(
    company: str = Query("", max_length=200, description="The company's name"),
    domain: str = Query("", max_length=253, description="The company's web domain"),
    country: str = Query("", max_length=80),
    partner_type: str = Query("", max_length=40),
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
) -> list[SuggestionOut]:
    """Working partners ranked for a lead that came without one, each with the reasons for its rank.

    Partners whose account list has the company as a customer, or open with it, come first."""
    return [
        SuggestionOut(partner_id=s.partner.id, partner_name=s.partner.name, score=s.score, reasons=s.reasons)
        for s in suggest_partners(
            session, company=company, domain=domain, country=country, partner_type=partner_type
        )
    ]


@router.get("/referrals/{referral_id}", response_model=ReferralOut)
def read_referral(
    referral_id: Id, actor: Actor = Depends(reader), session: Session = Depends(db)
) -> ReferralOut:
    """One referral with its conflicts and status history."""
    return ReferralOut.model_validate(get_referral(session, actor, referral_id))


@router.post("/referrals/{referral_id}/approve", response_model=ReferralOut)
def approve(
    referral_id: Id,
    body: DecisionIn,
    actor: Actor = Depends(reviewer),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> ReferralOut:
    """Approve: hand to sales, link or create the opportunity, record the partner touch."""
    referral = review.approve(session, actor, referral_id, settings=settings, reason=body.reason)
    return ReferralOut.model_validate(referral)


@router.post("/referrals/{referral_id}/reject", response_model=ReferralOut)
def reject(
    referral_id: Id, body: DecisionIn, actor: Actor = Depends(reviewer), session: Session = Depends(db)
) -> ReferralOut:
    """Reject with a reason, which the partner sees."""
    return ReferralOut.model_validate(review.reject(session, actor, referral_id, body.reason))
