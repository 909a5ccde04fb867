"""Joint account plan pages: the plans, one plan with its accounts and actions, and the forms partner
managers edit them with."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.actors import Actor
from ecoops.enablement import plans
from ecoops.enablement.models import PlanStatus
from ecoops.partners.models import Partner
from ecoops.partners.programs import FieldError
from ecoops.partners.service import partner_choices
from ecoops.permissions import Permission, allowed
from ecoops.web.changes import change_and_return
from ecoops.web.deps import db, page_permission
from ecoops.web.fields import Id
from ecoops.web.security import csrf_protect
from ecoops.web.templating import render

router = APIRouter(dependencies=[Depends(csrf_protect)])
reader = page_permission(Permission.READ_PROGRAM)
editor = page_permission(Permission.EDIT_PROGRAM)


def _due(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip()) if value.strip() else None
    except ValueError:
        raise FieldError("due_on", f"{value!r} is not a date (YYYY-MM-DD)") from None


@router.get("/plans")
def plan_list(
    request: Request,
    partner_id: Id | None = Query(None),
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
) -> Response:
    return render(
        request,
        "enablement/plans.html",
        plans=plans.list_plans(session, actor, partner_id),
        partners=(partners := partner_choices(session)),
        names=dict(partners),
        partner_id=partner_id,
    )


@router.post("/plans")
def create_plan(
    request: Request,
    partner_id: str = Form("", max_length=20),
    title: str = Form("", max_length=1000),
    objective: str = Form("", max_length=10_000),
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
) -> Response:
    created: list[int] = []

    def work() -> str:
        if not partner_id.isdigit() or len(partner_id) > 10:
            raise FieldError("partner_id", "pick the partner the plan is with")
        plan = plans.create_plan(session, actor, partner_id=int(partner_id), title=title, objective=objective)
        created.append(plan.id)
        return f"Joint plan {plan.title} created: choose its accounts."

    response = change_and_return(request, work, "/plans")
    if created:
        response.headers["location"] = f"/plans/{created[0]}"
    return response


@router.get("/plans/{joint_plan_id}")
def plan_page(
    request: Request, joint_plan_id: Id, actor: Actor = Depends(reader), session: Session = Depends(db)
) -> Response:
    plan = plans.get_plan(session, actor, joint_plan_id)
    editable = allowed(actor, Permission.EDIT_PROGRAM)
    return render(
        request,
        "enablement/plan.html",
        plan=plan,
        partner_name=session.scalar(select(Partner.name).where(Partner.id == plan.partner_id)) or "",
        accounts=plans.plan_accounts(session, actor, plan),
        actions=plans.plan_actions(session, plan),
        candidates=plans.candidates(session, actor, plan) if editable else [],
        owners=plans.owner_choices(session, plan) if editable else [],
        statuses=list(PlanStatus),
        editable=editable,
    )


@router.post("/plans/{joint_plan_id}/accounts")
def add_account(
    request: Request,
    joint_plan_id: Id,
    our_crm_id: str = Form("", max_length=64),
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
) -> Response:
    plan = plans.get_plan(session, actor, joint_plan_id)

    def work() -> str:
        row = plans.add_account(session, actor, plan, our_crm_id)
        return f"Account {row.their_name or row.our_crm_id} added to the plan."

    return change_and_return(request, work, f"/plans/{plan.id}")


@router.post("/plans/{joint_plan_id}/actions")
def add_action(
    request: Request,
    joint_plan_id: Id,
    title: str = Form("", max_length=1000),
    owner: str = Form("", max_length=40),
    due_on: str = Form("", max_length=20),
    our_crm_id: str = Form("", max_length=64),
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
) -> Response:
    plan = plans.get_plan(session, actor, joint_plan_id)

    def work() -> str:
        action = plans.add_action(
            session, actor, plan, title=title, owner=owner, due_on=_due(due_on), our_crm_id=our_crm_id
        )
        return f"Action added: {action.title} ({action.owner})."

    return change_and_return(request, work, f"/plans/{plan.id}")


@router.post("/plans/{joint_plan_id}/actions/{plan_action_id}")
def move_action(
    request: Request,
    joint_plan_id: Id,
    plan_action_id: Id,
    status: str = Form("", max_length=20),
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
) -> Response:
    plan = plans.get_plan(session, actor, joint_plan_id)

    def work() -> str:
        action = plans.set_status(session, actor, plan, plan_action_id, status)
        return f"{action.title}: {action.status.replace('_', ' ')}."

    return change_and_return(request, work, f"/plans/{plan.id}")
