"""Pages of the attribution review (proposed touches confirmed or disputed) and of the attribution rules."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from ecoops.accounts.service import names_by_email, user_names
from ecoops.actors import Actor
from ecoops.attribution import review, rules
from ecoops.attribution.models import CrmPartnerField, TouchKind
from ecoops.config import Settings
from ecoops.crm.models import Account
from ecoops.crm.service import by_crm_id
from ecoops.permissions import Permission
from ecoops.web.deps import app_settings, db, page_permission
from ecoops.web.fields import Id
from ecoops.web.security import csrf_protect
from ecoops.web.templating import flash, render

router = APIRouter(dependencies=[Depends(csrf_protect)])
reviewer = page_permission(Permission.REVIEW_ATTRIBUTION)


@router.get("/attribution/touches")
def touches_page(
    request: Request,
    status: str = Query("proposed", pattern="^(proposed|confirmed|disputed)$"),
    kind: str = Query("", max_length=30),
    actor: Actor = Depends(reviewer),
    session: Session = Depends(db),
) -> Response:
    rows = review.touches(session, actor, status, kind)
    shown = [row.touch for row in rows]
    noted_by = {int(t.evidence_ref) for t in shown if t.evidence_type == "user" and t.evidence_ref.isdigit()}
    return render(
        request,
        "attribution/touches.html",
        status=status,
        kind=kind,
        statuses=review.STATUSES,
        kinds=list(TouchKind),
        rows=rows,
        accounts=by_crm_id(
            session, actor, Account, [t.account_crm_id for t in shown if not t.opportunity_crm_id]
        ),
        people=user_names(session, set(noted_by)),
        who=names_by_email(session, {name for t in shown for name in (t.recorded_by, t.reviewed_by)}),
        unproposed=review.unproposed_count(session, actor),
    )


@router.post("/attribution/proposals")
def propose(request: Request, actor: Actor = Depends(reviewer), session: Session = Depends(db)) -> Response:
    count = review.propose_from_data(session, actor)
    flash(request, f"{count} touches proposed from the CRM's partner-source field", "success")
    return RedirectResponse("/attribution/touches", status_code=303)


@router.post("/attribution/touches/{touch_id}/review")
def review_touch(
    request: Request,
    touch_id: Id,
    decision: review.Decision = Form(...),
    reason: str = Form("", max_length=2000),
    actor: Actor = Depends(reviewer),
    session: Session = Depends(db),
) -> Response:
    return _review(request, session, actor, [touch_id], decision, reason, "/attribution/touches")


@router.post("/attribution/touches/review")
def review_selected(
    request: Request,
    touch_id: list[Id] = Form(default_factory=list),
    decision: review.Decision = Form(...),
    reason: str = Form("", max_length=2000),
    kind: str = Form("", max_length=30),
    actor: Actor = Depends(reviewer),
    session: Session = Depends(db),
) -> Response:
    back = f"/attribution/touches?{urlencode({'kind': kind})}"
    return _review(request, session, actor, touch_id, decision, reason, back)


def _review(
    request: Request,
    session: Session,
    actor: Actor,
    touch_ids: list[int],
    decision: review.Decision,
    reason: str,
    back: str,
) -> Response:
    try:
        reviewed = review.review_touches(session, actor, touch_ids, decision, reason)
        what = f"Touch {reviewed[0].id}" if len(reviewed) == 1 else f"{len(reviewed)} touches"
        flash(request, f"{what} {reviewed[0].status}", "success")
    except ValueError as error:
        flash(request, str(error), "error")
    return RedirectResponse(back, status_code=303)


@router.get("/attribution/rules")
def rules_page(
    request: Request,
    actor: Actor = Depends(page_permission(Permission.READ_METRICS)),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    return render(
        request,
        "attribution/rules.html",
        current=rules.settings_in_force(session, settings.currency),
        partner_field=rules.partner_field_rule(session),
        history=rules.history(session, actor),
    )


@router.post("/attribution/rules")
def change_rules(
    request: Request,
    sourcing_grace_days: int = Form(..., ge=0, le=3650),
    influence_look_back_days: int = Form(..., ge=0, le=3650),
    time_decay_half_life_days: float = Form(..., gt=0, le=3650),
    crm_partner_field: CrmPartnerField | None = Form(None),
    reason: str = Form("", max_length=2000),
    actor: Actor = Depends(page_permission(Permission.MANAGE_METRIC_SETTINGS)),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    try:
        rules.change_rules(
            session,
            actor,
            sourcing_grace_days=sourcing_grace_days,
            influence_look_back_days=influence_look_back_days,
            time_decay_half_life_days=time_decay_half_life_days,
            reason=reason,
            currency=settings.currency,
            crm_partner_field=crm_partner_field,
        )
        flash(request, "Rules changed; every figure now uses them", "success")
    except ValueError as error:
        flash(request, str(error), "error")
    return RedirectResponse("/attribution/rules", status_code=303)
