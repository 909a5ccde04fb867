"""Partner fit pages: the ranked recruiting list with each score's reasons, one partner's score and
profile, and the criteria form."""

from __future__ import annotations

from typing import cast

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor
from ecoops.fit import service
from ecoops.fit.models import Criterion
from ecoops.fit.scoring import LABELS, TARGET_HELP
from ecoops.maturity.models import IntegrationStatus
from ecoops.partners.models import PartnerType
from ecoops.permissions import Permission
from ecoops.web.deps import db, page_permission
from ecoops.web.fields import Id
from ecoops.web.security import csrf_protect
from ecoops.web.templating import flash, render

router = APIRouter(dependencies=[Depends(csrf_protect)])
reader = page_permission(Permission.READ_METRICS)
editor = page_permission(Permission.EDIT_PROGRAM)
WHO = ("candidates", "current", "all")


@router.get("/fit")
def recruiting_list(
    request: Request,
    who: str = Query("candidates", max_length=20),
    partner_type: str = Query("", alias="type", max_length=30),
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
) -> Response:
    chosen = cast(service.Who, who if who in WHO else "candidates")
    if partner_type not in tuple(PartnerType):
        partner_type = ""
    rows = service.ranked(session, actor, who=chosen, partner_type=partner_type)
    return render(
        request,
        "fit/list.html",
        rows=rows,
        who=chosen,
        partner_type=partner_type,
        types=list(PartnerType),
        criteria=service.criteria(session),
        labels=LABELS,
    )


@router.get("/fit/partners/{partner_id}")
def partner_fit(
    request: Request, partner_id: Id, actor: Actor = Depends(reader), session: Session = Depends(db)
) -> Response:
    found = service.explained(session, actor, partner_id)
    return render(
        request,
        "fit/partner.html",
        found=found,
        profile=service.profile(session, partner_id),
        statuses=list(IntegrationStatus),
    )


@router.post("/fit/partners/{partner_id}")
def save_profile(
    request: Request,
    partner_id: Id,
    employees: str = Form("", max_length=12),
    integration_status: str = Form("", max_length=20),
    note: str = Form("", max_length=2000),
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
) -> Response:
    try:
        service.set_profile(
            session, actor, partner_id, employees=employees, integration_status=integration_status, note=note
        )
        flash(request, "Profile saved; the score below uses it.", "success")
    except InvalidInput as exc:
        flash(request, f"Nothing was changed: {exc}.", "error")
    return RedirectResponse(f"/fit/partners/{partner_id}", status_code=303)


@router.get("/fit/criteria")
def criteria_page(
    request: Request, actor: Actor = Depends(reader), session: Session = Depends(db)
) -> Response:
    return render(
        request,
        "fit/criteria.html",
        criteria=service.criteria(session),
        labels=LABELS,
        target_help=TARGET_HELP,
    )


@router.post("/fit/criteria")
async def save_criteria(
    request: Request, actor: Actor = Depends(editor), session: Session = Depends(db)
) -> Response:
    form = await request.form()
    given = {
        c.value: (str(form.get(f"{c.value}.weight", "")), str(form.get(f"{c.value}.target", "")))
        for c in Criterion
        if f"{c.value}.weight" in form
    }
    try:
        service.set_criteria(session, actor, given)
        flash(request, "Criteria saved; every score now uses them.", "success")
    except InvalidInput as exc:
        flash(request, f"Nothing was changed: {exc}.", "error")
    return RedirectResponse("/fit/criteria", status_code=303)
