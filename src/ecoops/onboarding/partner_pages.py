"""Onboarding on a partner's page (its checklist checked off by us) and in the portal (the agreement,
accepted by a partner admin, and the checklist, read-only)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from ecoops.accounts.models import PartnerUser
from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor
from ecoops.onboarding import agreements, checklist
from ecoops.partners.editing import locked_partner
from ecoops.permissions import Permission
from ecoops.portal.deps import partner_user
from ecoops.web.auth_pages import client_address
from ecoops.web.deps import db, page_permission
from ecoops.web.fields import Id
from ecoops.web.security import csrf_protect
from ecoops.web.templating import flash, render

router = APIRouter(dependencies=[Depends(csrf_protect)])
editor = page_permission(Permission.EDIT_PROGRAM)


@router.post("/partners/{partner_id}/checklist/{checklist_item_id}")
def check_item(
    request: Request,
    partner_id: Id,
    checklist_item_id: Id,
    done: bool = Form(True),
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
) -> Response:
    partner = locked_partner(session, actor, partner_id)
    changed = checklist.set_done(session, actor, partner, checklist_item_id, done=done)
    if changed:
        flash(request, "Checked off." if done else "Opened again.", "success")
    return RedirectResponse(f"/partners/{partner_id}#onboarding", status_code=303)


@router.get("/portal/onboarding")
def portal_onboarding(
    request: Request, actor: Actor = Depends(partner_user), session: Session = Depends(db)
) -> Response:
    assert actor.partner_id is not None  # partner_user guarantees it
    person = session.get(PartnerUser, actor.id)
    return render(
        request,
        "portal/onboarding.html",
        agreements=agreements.partner_agreements(session, actor.partner_id),
        checklist=checklist.partner_checklist(session, actor.partner_id),
        is_partner_admin=bool(person and person.is_partner_admin),
    )


@router.post("/portal/onboarding/{program_id}/accept")
def accept_agreement(
    request: Request,
    program_id: Id,
    version: str = Form("", max_length=100),
    actor: Actor = Depends(partner_user),
    session: Session = Depends(db),
) -> Response:
    try:
        acceptance = agreements.accept_agreement(
            session,
            actor,
            program_id,
            version=version,
            address=client_address(request),
            user_agent=request.headers.get("user-agent", ""),
        )
    except InvalidInput as problem:
        flash(request, f"Not accepted: {problem}.", "error")
    else:
        flash(request, f"You accepted version {acceptance.version} of the agreement.", "success")
    return RedirectResponse("/portal/onboarding", status_code=303)
