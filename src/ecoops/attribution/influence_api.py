"""REST routes of influence logs: log what a partner did on a deal (/api/v1/partners/{id}/influence), list
logs, confirm or dispute one (/api/v1/influence).

Files are given on the pages; through the API a log's evidence is its note and link.
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from ecoops.actors import Actor
from ecoops.attribution import influence
from ecoops.attribution.models import Activity
from ecoops.attribution.review import Decision
from ecoops.config import Settings
from ecoops.permissions import Permission
from ecoops.web.deps import api_permission, app_settings, db
from ecoops.web.fields import Id, IsoDate, PageNumber, PerPage, UtcDateTime

router = APIRouter(tags=["influence"])
reader = api_permission(Permission.READ_CRM)


class InfluenceIn(BaseModel):
    activity: Activity
    happened_on: IsoDate
    note: str = Field(..., min_length=1, max_length=influence.MAX_NOTE)
    link: str = Field("", max_length=influence.MAX_LINK)
    opportunity_crm_id: str = Field("", max_length=64, description="the deal; or give account_crm_id alone")
    account_crm_id: str = Field("", max_length=64)


class InfluenceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    touch_id: int
    partner_id: int
    partner_name: str
    opportunity_crm_id: str
    account_crm_id: str
    deal_name: str
    activity: str
    happened_on: date
    note: str
    link: str
    file_name: str
    kind: str
    status: str
    logged_by: str
    logged_at: UtcDateTime
    reviewed_by: str
    reviewed_at: UtcDateTime | None
    review_reason: str


class DecisionIn(BaseModel):
    reason: str = Field("", max_length=2000)


class InfluencePage(BaseModel):
    items: list[InfluenceOut]
    total: int
    page: int
    per_page: int


def _out(row: influence.LogRow) -> InfluenceOut:
    log, touch = row.log, row.touch
    return InfluenceOut(
        id=log.id,
        touch_id=touch.id,
        partner_id=log.partner_id,
        partner_name=row.partner_name,
        opportunity_crm_id=log.opportunity_crm_id,
        account_crm_id=log.account_crm_id,
        deal_name=row.deal_name,
        activity=log.activity,
        happened_on=touch.touched_on,
        note=log.note,
        link=log.link,
        file_name=log.file_name,
        kind=touch.kind,
        status=touch.status,
        logged_by=log.logged_by,
        logged_at=log.logged_at,
        reviewed_by=touch.reviewed_by,
        reviewed_at=touch.reviewed_at,
        review_reason=touch.review_reason,
    )


@router.get("/influence", response_model=InfluencePage)
def list_logs(
    account_crm_id: str = Query("", max_length=64),
    opportunity_crm_id: str = Query("", max_length=64),
    log_status: str = Query("", alias="status", pattern="^(|proposed|confirmed|disputed)$"),
    page: PageNumber = 1,
    per_page: PerPage = 50,
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
) -> InfluencePage:
    """Influence logs, newest first; on an account, those of it and its opportunities."""
    found = influence.search_logs(
        session,
        actor,
        account_crm_id=account_crm_id,
        opportunity_crm_id=opportunity_crm_id,
        status=log_status,
        page=page,
        per_page=per_page,
    )
    return InfluencePage(
        items=[_out(r) for r in found.items], total=found.total, page=found.page, per_page=found.per_page
    )


@router.post("/partners/{partner_id}/influence", response_model=InfluenceOut, status_code=201)
def log(
    partner_id: Id,
    body: InfluenceIn,
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> InfluenceOut:
    """Log what a partner did on a deal or account.

    It enters as a proposed touch that waits for the deal owner's or a partner manager's decision (and
    `influence.logged` is emitted for automation)."""
    data = influence.LogInput(partner_id=partner_id, **body.model_dump(mode="python"))
    created = influence.log_influence(session, actor, data, settings)
    return _out(influence.get_log(session, actor, created.id))


@router.get("/influence/{log_id}", response_model=InfluenceOut)
def get_log(log_id: Id, actor: Actor = Depends(reader), session: Session = Depends(db)) -> InfluenceOut:
    """One influence log: what was logged, by whom, and its touch's status.

    Callers holding `read_crm` read any log; an unknown id answers 404."""
    return _out(influence.get_log(session, actor, log_id))


def _decide(session: Session, actor: Actor, log_id: int, decision: Decision, reason: str) -> InfluenceOut:
    try:
        return _out(influence.decide(session, actor, log_id, decision, reason))
    except influence.AlreadyDecided as taken:
        raise HTTPException(409, str(taken)) from None


@router.post(
    "/influence/{log_id}/confirm",
    response_model=InfluenceOut,
    responses={409: {"description": "already decided"}},
)
def confirm(
    log_id: Id, body: DecisionIn, actor: Actor = Depends(reader), session: Session = Depends(db)
) -> InfluenceOut:
    """Confirm (the deal owner or a partner manager): the touch counts from now on."""
    return _decide(session, actor, log_id, Decision.CONFIRM, body.reason)


@router.post(
    "/influence/{log_id}/dispute",
    response_model=InfluenceOut,
    responses={409: {"description": "already decided"}},
)
def dispute(
    log_id: Id, body: DecisionIn, actor: Actor = Depends(reader), session: Session = Depends(db)
) -> InfluenceOut:
    """Dispute, with a reason (400 without one): the touch never counts, and the partner sees why."""
    return _decide(session, actor, log_id, Decision.DISPUTE, body.reason)
