"""The partner API under /api/v1/portal: a partner user's token reaches its own partner's referrals only.

The same services as the portal pages, so the same narrowing: another partner's referral is a 404.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from ecoops.actors import Actor
from ecoops.config import Settings
from ecoops.portal.service import require_partner_user
from ecoops.referrals import outbound, queries
from ecoops.referrals.access import get_referral
from ecoops.referrals.models import Direction, Kind, Status, Via
from ecoops.referrals.schemas import AnswerIn, PartnerReferralOut, ReferralIn
from ecoops.referrals.submission import submit
from ecoops.web.api_pages import PageOut, PageRequest, page_out, page_request
from ecoops.web.deps import api_actor, app_settings, db
from ecoops.web.fields import Id

router = APIRouter(prefix="/portal", tags=["partner API"])


async def partner_caller(actor: Actor = Depends(api_actor)) -> Actor:
    require_partner_user(actor)
    return actor


@router.get("/referrals", response_model=PageOut[PartnerReferralOut])
def list_referrals(
    direction: Direction | None = None,
    status: Status | None = None,
    kind: Kind | None = None,
    pager: PageRequest = Depends(page_request),
    actor: Actor = Depends(partner_caller),
    session: Session = Depends(db),
) -> PageOut[PartnerReferralOut]:
    """Your organisation's referrals both ways, newest first: those you sent us and those we sent you."""
    filters = queries.ReferralFilters(direction or "", status or "", kind or "")
    result = queries.search_referrals(session, actor, filters, page=pager.page, per_page=pager.per_page)
    return page_out(result, PartnerReferralOut)


@router.post("/referrals", response_model=PartnerReferralOut, status_code=201)
def create_referral(
    body: ReferralIn,
    actor: Actor = Depends(partner_caller),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> PartnerReferralOut:
    """Submit a referral (eql) or a deal registration; your partner manager reviews it."""
    referral = submit(session, actor, body.to_input(), settings=settings, via=Via.API)
    return PartnerReferralOut.model_validate(referral)


@router.get("/referrals/{referral_id}", response_model=PartnerReferralOut)
def read_referral(
    referral_id: Id, actor: Actor = Depends(partner_caller), session: Session = Depends(db)
) -> PartnerReferralOut:
    """One of your organisation's referrals with its status history."""
    return PartnerReferralOut.model_validate(get_referral(session, actor, referral_id))


@router.post("/referrals/{referral_id}/answer", response_model=PartnerReferralOut)
def answer(
    referral_id: Id,
    body: AnswerIn,
    actor: Actor = Depends(partner_caller),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> PartnerReferralOut:
    """Accept or decline a referral we sent you (while it waits for your answer)."""
    referral = outbound.respond(
        session, actor, referral_id, accept=body.accept, settings=settings, reason=body.reason
    )
    return PartnerReferralOut.model_validate(referral)
