"""Pages of the partner program: the directory, a partner's page, and life-cycle moves."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.accounts.models import User
from ecoops.actors import Actor
from ecoops.config import Settings
from ecoops.crm.service import partner_opportunities
from ecoops.partners import service
from ecoops.partners.models import PartnerType, Stage
from ecoops.permissions import Permission, allowed
from ecoops.web.deps import app_settings, db, page_permission
from ecoops.web.security import csrf_protect
from ecoops.web.templating import flash, render

router = APIRouter(dependencies=[Depends(csrf_protect)])
reader = page_permission(Permission.READ_PROGRAM)
editor = page_permission(Permission.EDIT_PROGRAM)


def _optional_int(value: str) -> int | None:
    return int(value) if value.strip().isdigit() else None


@router.get("/partners")
def directory(
    request: Request,
    q: str = Query("", max_length=200),
    partner_type: str = "",
    program_id: str = "",
    tier_id: str = "",
    stage: str = "",
    owner_id: str = "",
    page: int = Query(1, ge=1),
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    filters = service.PartnerFilters(
        q, partner_type, _optional_int(program_id), _optional_int(tier_id), stage, _optional_int(owner_id)
    )
    result = service.search_partners(session, actor, filters, page=page, per_page=settings.page_size)
    owners = session.scalars(select(User).where(User.is_active).order_by(User.name)).all()
    owner_names = {user.id: user.name for user in owners}
    template = "partners/_rows.html" if request.headers.get("hx-request") else "partners/list.html"
    return render(
        request,
        template,
        page=result,
        filters=filters,
        programs=service.list_programs(session, actor),
        owners=owners,
        owner_names=owner_names,
        partner_types=list(PartnerType),
        stages=list(Stage),
    )


@router.get("/partners/{partner_id}")
def partner_page(
    request: Request,
    partner_id: int,
    page: int = Query(1, ge=1),
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    partner = service.get_partner(session, actor, partner_id)
    opportunities = (
        partner_opportunities(session, actor, partner, page=page)
        if allowed(actor, Permission.READ_CRM)
        else None
    )
    owner = session.get(User, partner.owner_id) if partner.owner_id else None
    return render(
        request,
        "partners/detail.html",
        partner=partner,
        owner=owner,
        opportunities=opportunities,
        stages=[s for s in Stage if s.value != partner.stage],
        today=settings.today(),
    )


@router.post("/partners/{partner_id}/stage")
def move_stage(
    request: Request,
    partner_id: int,
    to_stage: str = Form(...),
    changed_on: date = Form(...),
    note: str = Form("", max_length=2000),
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    partner = service.get_partner(session, actor, partner_id)
    service.change_stage(
        session, actor, partner, to=to_stage, on=changed_on, today=settings.today(), note=note
    )
    flash(request, f"{partner.name} is now {to_stage} (since {changed_on.isoformat()}).", "success")
    return RedirectResponse(f"/partners/{partner_id}", status_code=303)
