"""REST routes for running the program under /api/v1: programs and their tiers."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from sqlalchemy.orm import Session

from ecoops.actors import Actor
from ecoops.config import Settings
from ecoops.partners import programs
from ecoops.partners.schemas import (
    TERMS_FIELDS,
    ProgramIn,
    ProgramOut,
    ProgramPatch,
    TierIn,
    TierOut,
    TierPatch,
)
from ecoops.partners.tier_terms import CriterionInput, TierTerms, set_tier_terms
from ecoops.permissions import Permission
from ecoops.web.deps import api_permission, app_settings, db
from ecoops.web.fields import Id

router = APIRouter(tags=["programs"])
reader = api_permission(Permission.READ_PROGRAM)
editor = api_permission(Permission.EDIT_PROGRAM)


@router.get("/programs", response_model=list[ProgramOut])
def list_programs(
    include_retired: bool = True, actor: Actor = Depends(reader), session: Session = Depends(db)
) -> list[ProgramOut]:
    """Programs and their tiers; retired ones carry the date they were retired."""
    found = programs.list_programs(session, actor, active_only=not include_retired)
    return [ProgramOut.model_validate(p) for p in found]


@router.post("/programs", response_model=ProgramOut, status_code=201)
def create_program(
    body: ProgramIn, actor: Actor = Depends(editor), session: Session = Depends(db)
) -> ProgramOut:
    """A program with its tiers, entry level first."""
    program = programs.create_program(
        session, actor, name=body.name, tiers=body.tiers, description=body.description
    )
    return ProgramOut.model_validate(program)


@router.patch("/programs/{program_id}", response_model=ProgramOut)
def edit_program(
    program_id: Id,
    body: ProgramPatch,
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> ProgramOut:
    """Rename or describe a program; `retired: true` retires it, `false` brings it back."""
    program = programs.get_program(session, actor, program_id)
    if body.name is not None or body.description is not None:
        programs.update_program(
            session,
            actor,
            program,
            name=program.name if body.name is None else body.name,
            description=program.description if body.description is None else body.description,
        )
    if body.retired is not None and body.retired != (program.retired_on is not None):
        programs.set_program_retired(session, actor, program, retired=body.retired, today=settings.today())
    return ProgramOut.model_validate(program)


@router.delete("/programs/{program_id}", status_code=204)
def delete_program(
    program_id: Id, actor: Actor = Depends(editor), session: Session = Depends(db)
) -> Response:
    """Delete a program no partner holds (400 otherwise: retire it instead)."""
    programs.delete_program(session, actor, programs.get_program(session, actor, program_id))
    return Response(status_code=204)


@router.post("/programs/{program_id}/tiers", response_model=TierOut, status_code=201)
def add_tier(
    program_id: Id, body: TierIn, actor: Actor = Depends(editor), session: Session = Depends(db)
) -> TierOut:
    """A new tier at the top of the program's ladder."""
    program = programs.get_program(session, actor, program_id)
    return TierOut.model_validate(programs.add_tier(session, actor, program, name=body.name))


@router.patch("/programs/{program_id}/tiers/{tier_id}", response_model=TierOut)
def edit_tier(
    program_id: Id,
    tier_id: Id,
    body: TierPatch,
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> TierOut:
    """Rename or re-rank a tier; `retired` as for programs; set its criteria and benefits."""
    tier = programs.get_tier(session, actor, program_id, tier_id)
    given = body.model_fields_set & TERMS_FIELDS
    if given:
        criteria = body.criteria if body.criteria is not None else tier.criteria
        terms = TierTerms(
            registration_days=body.registration_days
            if "registration_days" in given
            else tier.registration_days,
            commission_class=tier.commission_class
            if body.commission_class is None
            else body.commission_class,
            mdf_eligible=tier.mdf_eligible if body.mdf_eligible is None else body.mdf_eligible,
            portal_content=tier.portal_content if body.portal_content is None else body.portal_content,
            criteria=[CriterionInput(c.metric, c.threshold, c.window_days) for c in criteria],
        )
        set_tier_terms(session, actor, tier, terms)
    if body.name is not None or body.rank is not None:
        programs.update_tier(
            session,
            actor,
            tier,
            name=tier.name if body.name is None else body.name,
            rank=tier.rank if body.rank is None else body.rank,
        )
    if body.retired is not None and body.retired != (tier.retired_on is not None):
        programs.set_tier_retired(session, actor, tier, retired=body.retired, today=settings.today())
    return TierOut.model_validate(tier)


@router.delete("/programs/{program_id}/tiers/{tier_id}", status_code=204)
def delete_tier(
    program_id: Id, tier_id: Id, actor: Actor = Depends(editor), session: Session = Depends(db)
) -> Response:
    """Delete a tier no partner holds (400 otherwise: retire it instead)."""
    programs.delete_tier(session, actor, programs.get_tier(session, actor, program_id, tier_id))
    return Response(status_code=204)
