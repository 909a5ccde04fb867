"""Reviewing partner applications: the list, one application, approving and declining it."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor
from ecoops.config import Settings
from ecoops.onboarding import applications
from ecoops.onboarding.models import ApplicationStatus
from ecoops.partners.models import Partner
from ecoops.permissions import Permission
from ecoops.web.deps import app_settings, db, page_permission
from ecoops.web.fields import Id, PageNumber
from ecoops.web.security import csrf_protect
from ecoops.web.templating import flash, render, render_list

router = APIRouter(dependencies=[Depends(csrf_protect)])
reviewer = page_permission(Permission.EDIT_PROGRAM)


@router.get("/applications")
def application_list(
    request: Request,
    status: str = Query("submitted", max_length=20),
    page: PageNumber = 1,
    actor: Actor = Depends(reviewer),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    shown = status if status in ApplicationStatus.__members__.values() else ""
    result = applications.list_applications(
        session, actor, status=shown, page=page, per_page=settings.page_size
    )
    return render_list(
        request,
        "onboarding/applications.html",
        "onboarding/_application_rows.html",
        page=result,
        status=shown,
        statuses=list(ApplicationStatus),
    )


@router.get("/applications/{application_id}")
def application_page(
    request: Request,
    application_id: Id,
    actor: Actor = Depends(reviewer),
    session: Session = Depends(db),
) -> Response:
    application = applications.get_application(session, actor, application_id)
    return render(
        request,
        "onboarding/application.html",
        application=application,
        duplicates=applications.possible_duplicates(session, application),
        programs=applications.open_programs(session),
        stages=applications.APPROVED_STAGES,
        partner=session.get(Partner, application.partner_id) if application.partner_id else None,
    )


@router.post("/applications/{application_id}/approve")
def approve(
    request: Request,
    application_id: Id,
    stage: str = Form("", max_length=20),
    program_id: Id | None = Form(None),
    note: str = Form("", max_length=2000),
    despite_duplicates: bool = Form(False),
    actor: Actor = Depends(reviewer),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    try:
        approval = applications.approve_application(
            session,
            actor,
            application_id,
            stage=stage,
            program_id=program_id,
            today=settings.today(),
            note=note,
            despite_duplicates=despite_duplicates,
        )
    except InvalidInput as problem:
        flash(request, f"Not approved: {problem}.", "error")
        return RedirectResponse(f"/applications/{application_id}", status_code=303)
    partner = approval.partner
    contact = (
        f"; {approval.contact.email} is its e-mail-only contact"
        if approval.contact
        else "; its applicant already has an account here, so no contact was added"
    )
    flash(request, f"{partner.name} is in the directory, {partner.stage}{contact}.", "success")
    return RedirectResponse(f"/partners/{partner.id}", status_code=303)


@router.post("/applications/{application_id}/decline")
def decline(
    request: Request,
    application_id: Id,
    reason: str = Form("", max_length=5000),
    actor: Actor = Depends(reviewer),
    session: Session = Depends(db),
) -> Response:
    try:
        applications.decline_application(session, actor, application_id, reason=reason)
    except InvalidInput as problem:
        flash(request, f"Not declined: {problem}.", "error")
        return RedirectResponse(f"/applications/{application_id}", status_code=303)
    flash(request, "The application is declined.", "success")
    return RedirectResponse("/applications", status_code=303)
