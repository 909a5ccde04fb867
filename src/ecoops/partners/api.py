"""REST routes for partners and programs under /api/v1."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.actors import Actor
from ecoops.config import Settings
from ecoops.partners import service
from ecoops.partners.editing import PartnerEdit, update_partner
from ecoops.partners.models import Partner, Tier
from ecoops.partners.schemas import (
    PartnerChangeOut,
    PartnerDetailOut,
    PartnerIn,
    PartnerOut,
    PartnerPageOut,
    PartnerPatch,
    StageChangeIn,
    StageChangeOut,
)
from ecoops.permissions import Permission
from ecoops.web.deps import api_permission, app_settings, db
from ecoops.web.fields import Id, PageNumber, PerPage

router = APIRouter(tags=["partners"])
reader = api_permission(Permission.READ_PROGRAM)
editor = api_permission(Permission.EDIT_PROGRAM)


def _detail(partner: Partner) -> PartnerDetailOut:
    base = PartnerOut.model_validate(partner).model_dump()
    return PartnerDetailOut(
        **base,
        description=partner.description,
        domains=[d.domain for d in partner.domains],
        stage_changes=[StageChangeOut.model_validate(c) for c in partner.stage_changes],
        changes=[PartnerChangeOut.model_validate(c) for c in partner.changes],
    )


@router.get("/partners", response_model=PartnerPageOut)
def list_partners(
    q: str = Query("", max_length=200),
    partner_type: str = "",
    program_id: Id | None = None,
    tier_id: Id | None = None,
    stage: str = "",
    owner_id: Id | None = None,
    page: PageNumber = 1,
    per_page: PerPage = 50,
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
) -> PartnerPageOut:
    """Search and filter the partner directory."""
    filters = service.PartnerFilters(q, partner_type, program_id, tier_id, stage, owner_id)
    result = service.search_partners(session, actor, filters, page=page, per_page=per_page)
    return PartnerPageOut(
        items=[PartnerOut.model_validate(p) for p in result.items],
        total=result.total,
        page=result.page,
        per_page=result.per_page,
    )


@router.post("/partners", response_model=PartnerDetailOut, status_code=201)
def create_partner(
    body: PartnerIn, actor: Actor = Depends(editor), session: Session = Depends(db)
) -> PartnerDetailOut:
    """Create a partner; its first stage becomes the start of its life-cycle history."""
    tiers = list(session.scalars(select(Tier).where(Tier.id.in_(body.tier_ids)))) if body.tier_ids else []
    partner = service.create_partner(
        session,
        actor,
        name=body.name,
        partner_type=body.partner_type,
        stage=body.stage,
        stage_since=body.stage_since,
        website=body.website,
        domains=body.domains,
        country=body.country,
        owner_id=body.owner_id,
        crm_id=body.crm_id,
        description=body.description,
        tiers=tiers,
    )
    return _detail(service.get_partner(session, actor, partner.id))


@router.get("/partners/{partner_id}", response_model=PartnerDetailOut)
def get_partner(
    partner_id: Id, actor: Actor = Depends(reader), session: Session = Depends(db)
) -> PartnerDetailOut:
    """One partner with its domains, programs and dated life-cycle history."""
    return _detail(service.get_partner(session, actor, partner_id))


@router.post("/partners/{partner_id}/stage-changes", response_model=StageChangeOut, status_code=201)
def change_stage(
    partner_id: Id,
    body: StageChangeIn,
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> StageChangeOut:
    """Move a partner to another life-cycle stage as of a date."""
    partner = service.get_partner(session, actor, partner_id)
    change = service.change_stage(
        session, actor, partner, to=body.to_stage, on=body.changed_on, today=settings.today(), note=body.note
    )
    return StageChangeOut.model_validate(change)


@router.patch("/partners/{partner_id}", response_model=PartnerDetailOut)
def edit_partner(
    partner_id: Id,
    body: PartnerPatch,
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> PartnerDetailOut:
    """Change a partner's profile, owner, type or tiers; each change is a dated line of its history."""
    given = body.model_fields_set
    edit = PartnerEdit(
        name=body.name,
        partner_type=body.partner_type,
        website=body.website,
        domains=body.domains,
        country=body.country,
        description=body.description,
        owner_id=body.owner_id,
        clear_owner="owner_id" in given and body.owner_id is None,
        tier_ids=body.tier_ids,
        certified_people=body.certified_people,
    )
    today = settings.today()
    update_partner(session, actor, partner_id, edit, on=body.changed_on or today, today=today)
    return _detail(service.get_partner(session, actor, partner_id))
