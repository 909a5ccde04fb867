"""The audit trail under /api/v1 (READ_AUDIT)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.actors import Actor
from ecoops.permissions import Permission
from ecoops.web.api_pages import PageOut, PageRequest, page_out, page_request
from ecoops.web.deps import api_permission, db
from ecoops.web.fields import UtcDateTime

router = APIRouter(tags=["audit"])
auditor = api_permission(Permission.READ_AUDIT)


class AuditEventOut(BaseModel):
    """One state change: who did what to which record, and when (UTC)."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    at: UtcDateTime
    actor_kind: str
    actor_id: int | None
    actor_label: str
    action: str
    target_type: str
    target_id: str | None
    details: dict[str, Any]


@router.get("/audit-events", response_model=PageOut[AuditEventOut])
def list_audit_events(
    action: str = Query("", max_length=80, description="exact action, e.g. partner.stage_changed"),
    by: str = Query("", max_length=200, description="part of the actor's label (an e-mail)"),
    paging: PageRequest = Depends(page_request),
    actor: Actor = Depends(auditor),
    session: Session = Depends(db),
) -> PageOut[AuditEventOut]:
    """The audit trail, newest first."""
    result = audit.search(session, actor, action=action, by=by, page=paging.page, per_page=paging.per_page)
    return page_out(result, AuditEventOut)
