"""The partner portal's enablement: the content for all partners and for the partner's own, the
playbooks published to it, and its own joint account plans (read only: partner managers edit them)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from ecoops.actors import Actor
from ecoops.config import Settings
from ecoops.enablement import content, plans, playbooks
from ecoops.enablement.panels import step_contents
from ecoops.portal.deps import partner_user
from ecoops.web.deps import app_settings, db
from ecoops.web.fields import Id, PageNumber
from ecoops.web.security import csrf_protect
from ecoops.web.templating import render

router = APIRouter(dependencies=[Depends(csrf_protect)])


@router.get("/portal/enablement")
def portal_enablement(
    request: Request,
    page: PageNumber = 1,
    actor: Actor = Depends(partner_user),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    found = content.search_content(
        session, actor, content.ContentFilters(), page=page, per_page=settings.page_size
    )
    return render(
        request,
        "portal/enablement.html",
        page=found,
        playbooks=playbooks.list_playbooks(session, actor),
        plans=plans.list_plans(session, actor),
    )


@router.get("/portal/playbooks/{playbook_id}")
def portal_playbook(
    request: Request, playbook_id: Id, actor: Actor = Depends(partner_user), session: Session = Depends(db)
) -> Response:
    playbook = playbooks.get_playbook(session, actor, playbook_id)
    return render(
        request,
        "portal/playbook.html",
        playbook=playbook,
        contents=step_contents(session, actor, [playbook]),
    )


@router.get("/portal/plans/{joint_plan_id}")
def portal_plan(
    request: Request, joint_plan_id: Id, actor: Actor = Depends(partner_user), session: Session = Depends(db)
) -> Response:
    plan = plans.get_plan(session, actor, joint_plan_id)
    return render(
        request,
        "portal/plan.html",
        plan=plan,
        accounts=plans.plan_accounts(session, actor, plan),
        actions=plans.plan_actions(session, plan),
    )
