"""REST routes under /api/v1/attribution: touches to review, decisions on them, the rules with history."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from ecoops.actors import Actor
from ecoops.attribution import review, rules
from ecoops.attribution.models import CrmPartnerField
from ecoops.config import Settings
from ecoops.permissions import Permission
from ecoops.web.deps import api_permission, app_settings, db
from ecoops.web.errors import invalid_request
from ecoops.web.fields import Id, UtcDateTime

router = APIRouter(prefix="/attribution", tags=["attribution"])
reviewer = api_permission(Permission.REVIEW_ATTRIBUTION)


class TouchOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    partner_id: int
    opportunity_crm_id: str
    account_crm_id: str
    kind: str
    touched_on: date
    evidence_type: str
    evidence_ref: str
    note: str
    status: str
    recorded_by: str
    reviewed_by: str
    reviewed_at: UtcDateTime | None
    review_reason: str
    external_id: str | None = None  # the sender's id, for touches brought in a batch


class ReviewIn(BaseModel):
    decision: review.Decision
    reason: str = Field(..., min_length=1, max_length=2000)


class RulesIn(BaseModel):
    sourcing_grace_days: int = Field(..., ge=0, le=3650)
    influence_look_back_days: int = Field(..., ge=0, le=3650)
    time_decay_half_life_days: float = Field(..., gt=0, le=3650)
    crm_partner_field: CrmPartnerField | None = Field(
        None,
        description="record: the CRM's partner field is the system of record (its touches count at once, "
        "disputable); review: they wait for review. Not given: the rule in force stays.",
    )
    reason: str = Field(..., min_length=1, max_length=2000)


class RulesChangeOut(RulesIn):
    model_config = ConfigDict(from_attributes=True)

    crm_partner_field: CrmPartnerField
    changed_by: str
    changed_at: UtcDateTime


@router.get("/touches", response_model=list[TouchOut])
def list_touches(
    touch_status: str = Query("proposed", alias="status", pattern="^(proposed|confirmed|disputed)$"),
    actor: Actor = Depends(reviewer),
    session: Session = Depends(db),
) -> list[TouchOut]:
    """Stored touches of one status (proposed by default), oldest first."""
    return [TouchOut.model_validate(row.touch) for row in review.touches(session, actor, touch_status)]


@router.post("/touches/{touch_id}/review", response_model=TouchOut)
def review_touch(
    touch_id: Id, body: ReviewIn, actor: Actor = Depends(reviewer), session: Session = Depends(db)
) -> TouchOut:
    """Confirm or dispute a touch, with a reason (audited); only confirmed touches count."""
    try:
        touch = review.review_touch(session, actor, touch_id, body.decision, body.reason)
    except ValueError as error:
        raise invalid_request(str(error), "body") from None
    return TouchOut.model_validate(touch)


@router.get("/rules", response_model=list[RulesChangeOut])
def rules_history(
    actor: Actor = Depends(api_permission(Permission.READ_METRICS)), session: Session = Depends(db)
) -> list[RulesChangeOut]:
    """Every version of the attribution rules, newest (in force) first; empty: the shipped defaults."""
    return [RulesChangeOut.model_validate(change) for change in rules.history(session, actor)]


@router.post("/rules", response_model=RulesChangeOut, status_code=201)
def change_rules(
    body: RulesIn,
    actor: Actor = Depends(api_permission(Permission.MANAGE_METRIC_SETTINGS)),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> RulesChangeOut:
    """Put new attribution rules in force, with a reason (audited, kept in the history)."""
    try:
        change = rules.change_rules(session, actor, **body.model_dump(), currency=settings.currency)
    except ValueError as error:
        raise invalid_request(str(error), "body") from None
    return RulesChangeOut.model_validate(change)
