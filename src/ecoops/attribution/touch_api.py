"""REST routes under /api/v1/touches: bring touches in a batch, and confirm or dispute touches in a batch."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from ecoops.actors import Actor
from ecoops.attribution import review, touch_batch
from ecoops.attribution.api import TouchOut
from ecoops.attribution.models import TouchKind
from ecoops.config import Settings
from ecoops.permissions import Permission
from ecoops.web.deps import api_permission, app_settings, db
from ecoops.web.errors import ErrorOut, invalid_request
from ecoops.web.fields import Id, IsoDate

router = APIRouter(prefix="/touches", tags=["attribution"])


class TouchRowIn(BaseModel):
    external_id: str = Field(..., description="your own id of the touch: a batch sent again adds it once")
    partner_id: Id | None = Field(None, description="our partner id; or name the partner in `partner`")
    partner: str = Field("", max_length=300, description="the partner's CRM id or name, when no partner_id")
    kind: str = Field(..., description=f"one of {', '.join(touch_batch.IMPORTABLE_KINDS)}")
    touched_on: IsoDate
    opportunity_crm_id: str = Field("", max_length=64)
    account_crm_id: str = Field("", max_length=64, description="the account, for a touch on no one deal")
    note: str = ""
    status: str = Field("proposed", description="proposed (waits for review) or confirmed")


class BatchIn(BaseModel):
    touches: list[TouchRowIn] = Field(..., min_length=1)


class BatchOut(BaseModel):
    new: list[TouchOut]
    existing: list[TouchOut] = Field(description="sent before (same external_id): left as stored")


class RowProblemOut(BaseModel):
    row: int = Field(description="the row's index in `touches`, from 0")
    field: str
    message: str


class BatchRefusedOut(BaseModel):
    detail: str
    problems: list[RowProblemOut]


class BatchReviewIn(BaseModel):
    touch_ids: list[Id] = Field(
        [], max_length=500, description="these touches; or every proposed one of `kind`"
    )
    kind: TouchKind | None = Field(None, description="every proposed touch of this kind (at most 500)")
    decision: review.Decision
    reason: str = Field(..., min_length=1, max_length=2000)


@router.post(
    "",
    response_model=BatchOut,
    responses={
        400: {
            # A body that is not JSON at all is refused by the framework with only a detail.
            "model": BatchRefusedOut | ErrorOut,
            "description": "a bad row: nothing stored, every problem named; or a body that is not JSON",
        }
    },
)
def add_touches(
    body: BatchIn,
    actor: Actor = Depends(api_permission(Permission.IMPORT_DATA)),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> BatchOut | JSONResponse:
    """Store a batch of touches with their real dates, all or none; rows sent before are left as they are."""
    named = touch_batch.PartnerNames(session)
    unknown: list[touch_batch.RowProblem] = []
    rows = []
    for index, row in enumerate(body.touches):
        partner_id = row.partner_id or (named(row.partner) if row.partner else None)
        if partner_id is None:
            what = (
                f"no partner with CRM id or name {row.partner!r}"
                if row.partner
                else "give partner_id or partner"
            )
            unknown.append(touch_batch.RowProblem(index, "partner", what))
        rows.append(
            touch_batch.TouchIn(partner_id=partner_id, **row.model_dump(exclude={"partner_id", "partner"}))
        )
    try:
        if unknown:
            raise touch_batch.BatchRefused(unknown + touch_batch.check(session, rows, settings.today()))
        result = touch_batch.add_touches(session, actor, rows, settings.today())
    except touch_batch.BatchRefused as refused:
        ordered = sorted(refused.problems, key=lambda p: p.row)
        problems = [RowProblemOut(row=p.row, field=p.field, message=p.message) for p in ordered]
        return JSONResponse(
            BatchRefusedOut(detail=str(refused), problems=problems).model_dump(), status_code=400
        )
    return BatchOut(
        new=[TouchOut.model_validate(t) for t in result.new],
        existing=[TouchOut.model_validate(t) for t in result.existing],
    )


@router.post("/review", response_model=list[TouchOut])
def review_touches(
    body: BatchReviewIn,
    actor: Actor = Depends(api_permission(Permission.REVIEW_ATTRIBUTION)),
    session: Session = Depends(db),
) -> list[TouchOut]:
    """Confirm or dispute several touches with one reason (audited), all or none."""
    ids = list(body.touch_ids)
    if body.kind is not None:
        ids += [row.touch.id for row in review.touches(session, actor, "proposed", body.kind.value)]
    try:
        touches = review.review_touches(session, actor, ids, body.decision, body.reason)
    except ValueError as error:
        raise invalid_request(str(error), "body", "reason") from None
    return [TouchOut.model_validate(t) for t in touches]
