"""The audit trail page (READ_AUDIT): every state change, newest first, filtered by action and actor."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.actors import Actor
from ecoops.config import Settings
from ecoops.permissions import Permission
from ecoops.web.deps import app_settings, db, page_permission
from ecoops.web.fields import PageNumber
from ecoops.web.security import csrf_protect
from ecoops.web.templating import render_list

router = APIRouter(dependencies=[Depends(csrf_protect)])
auditor = page_permission(Permission.READ_AUDIT)


@router.get("/audit")
def audit_trail(
    request: Request,
    action: str = Query("", max_length=80),
    by: str = Query("", max_length=200),
    page: PageNumber = 1,
    actor: Actor = Depends(auditor),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    result = audit.search(session, actor, action=action, by=by, page=page, per_page=settings.page_size)
    return render_list(
        request,
        "audit/list.html",
        "audit/_rows.html",
        page=result,
        action=action,
        by=by,
        actions=audit.actions(session, actor),
    )
