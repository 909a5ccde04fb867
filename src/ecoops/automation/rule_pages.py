"""Rule editor pages: the list, a rule with its actions' recipients, create/edit with a template preview,
switching on and off, deleting, and "try this rule on the last 30 days"."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.accounts.models import User
from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor
from ecoops.audit import utcnow
from ecoops.automation import rules
from ecoops.automation.conditions import Conditions
from ecoops.automation.dispatch import Planner, latest_event, preview
from ecoops.automation.rules import ALLOWED_RECIPIENTS, Action, ActionKind, Rule, RuleInput, To
from ecoops.automation.templates import DEFAULTS, build_message, check_template
from ecoops.config import Settings
from ecoops.events.models import EventKind
from ecoops.partners.models import Partner, PartnerType, Program
from ecoops.partners.service import partner_choices
from ecoops.permissions import Permission
from ecoops.referrals.models import Direction, Kind
from ecoops.web.deps import app_settings, db, page_permission
from ecoops.web.fields import Id
from ecoops.web.security import csrf_protect
from ecoops.web.templating import flash, render

router = APIRouter(dependencies=[Depends(csrf_protect)])
reader = page_permission(Permission.READ_PROGRAM)
manager = page_permission(Permission.MANAGE_AUTOMATION)
ACTION_ROWS = 5  # blank action rows on the form; unused ones are left empty


def rule_input(form: dict[str, Any]) -> RuleInput:
    """The rule a submitted form describes: conditions by name, actions as numbered rows."""
    text = {k: str(v) for k, v in form.items()}
    actions = []
    for i in range(ACTION_ROWS):
        kind = text.get(f"action_{i}_kind", "").strip()
        if not kind:
            continue
        due = text.get(f"action_{i}_due_days", "").strip() or "3"
        if not due.isdigit():
            raise InvalidInput(f"action {i + 1}: due days must be a whole number")
        actions.append(
            Action(
                kind=kind,
                to=text.get(f"action_{i}_to", ""),
                value=text.get(f"action_{i}_value", ""),
                due_days=int(due),
            )
        )
    return RuleInput(
        name=text.get("name", ""),
        trigger=text.get("trigger", ""),
        conditions=Conditions.parse(text),
        actions=actions,
        subject_template=text.get("subject_template", ""),
        body_template=text.get("body_template", ""),
    )


def _form_values(rule: Rule | None) -> dict[str, Any]:
    if rule is None:
        return {"trigger": EventKind.OVERLAP_BEGAN.value, "actions": []}
    return {
        "name": rule.name,
        "trigger": rule.trigger,
        **{k: str(v) for k, v in rule.conditions.items()},
        "actions": rule.actions,
        "subject_template": rule.subject_template,
        "body_template": rule.body_template,
    }


def _editor(
    request: Request,
    session: Session,
    rule: Rule | None,
    form: dict[str, Any],
    error: str = "",
    status_code: int = 200,
) -> Response:
    actions = list(form.get("actions", []))
    return render(
        request,
        "automation/rule_form.html",
        status_code=status_code,
        rule=rule,
        form=form,
        actions=actions + [{}] * (ACTION_ROWS - len(actions)),
        error=error,
        triggers=list(EventKind),
        defaults={k.value: v for k, v in DEFAULTS.items()},
        partners=partner_choices(session),
        programs=session.scalars(select(Program).order_by(Program.name)).all(),
        partner_types=list(PartnerType),
        directions=list(Direction),
        referral_kinds=list(Kind),
        action_kinds=list(ActionKind),
        recipients={k.value: [t.value for t in v] for k, v in ALLOWED_RECIPIENTS.items()},
        all_recipients=list(To),
        users=session.scalars(select(User).where(User.is_active).order_by(User.name)).all(),
    )


def _submitted(form: Any) -> dict[str, Any]:
    values: dict[str, Any] = {k: v for k, v in form.items() if not k.startswith("action_")}
    values["actions"] = [
        {
            "kind": form.get(f"action_{i}_kind", ""),
            "to": form.get(f"action_{i}_to", ""),
            "value": form.get(f"action_{i}_value", ""),
            "due_days": form.get(f"action_{i}_due_days", "3"),
        }
        for i in range(ACTION_ROWS)
        if form.get(f"action_{i}_kind")
    ]
    return values


@router.get("/automation/rules")
def rule_list(request: Request, actor: Actor = Depends(reader), session: Session = Depends(db)) -> Response:
    return render(request, "automation/rules.html", rules=rules.list_rules(session, actor))


@router.get("/automation/rules/new")
def new_rule(request: Request, actor: Actor = Depends(manager), session: Session = Depends(db)) -> Response:
    return _editor(request, session, None, _form_values(None))


@router.post("/automation/rules")
async def create(
    request: Request, actor: Actor = Depends(manager), session: Session = Depends(db)
) -> Response:
    form = await request.form()
    try:
        rule = rules.create_rule(session, actor, rule_input(dict(form)))
    except InvalidInput as problem:
        return _editor(request, session, None, _submitted(form), str(problem), status_code=400)
    flash(
        request,
        f"Rule “{rule.name}” saved, switched off. Try it on the last 30 days, then switch it on.",
        "success",
    )
    return RedirectResponse(f"/automation/rules/{rule.id}", status_code=303)


@router.get("/automation/rules/{rule_id}")
def rule_detail(
    request: Request,
    rule_id: Id,
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    rule = rules.get_rule(session, actor, rule_id)
    sample = latest_event(session, rule.trigger)
    resolver = Planner(session, settings).resolver
    # How each action resolves for the latest event of the trigger: owners that are not users show here.
    resolved = [(a, resolver.targets(a, sample) if sample else []) for a in rule.action_list]
    return render(
        request,
        "automation/rule_detail.html",
        rule=rule,
        resolved=resolved,
        sample=sample,
        conditions=rule.condition_set,
        names=_names(session, rule.condition_set),
    )


def _names(session: Session, conditions: Conditions) -> dict[str, str]:
    """Partner, program and tier names for a rule's conditions, to show instead of ids."""
    names: dict[str, str] = {}
    if conditions.partner_id is not None:
        names["partner"] = (
            session.scalar(select(Partner.name).where(Partner.id == conditions.partner_id)) or "(deleted)"
        )
    programs = session.scalars(select(Program)).all()
    for program in programs:
        if program.id == conditions.program_id:
            names["program"] = program.name
        for tier in program.tiers:
            if tier.id == conditions.tier_id:
                names["tier"] = f"{program.name} · {tier.name}"
    return names


@router.get("/automation/rules/{rule_id}/edit")
def edit_rule(
    request: Request, rule_id: Id, actor: Actor = Depends(manager), session: Session = Depends(db)
) -> Response:
    rule = rules.get_rule(session, actor, rule_id)
    return _editor(request, session, rule, _form_values(rule))


@router.post("/automation/rules/{rule_id}")
async def update(
    request: Request, rule_id: Id, actor: Actor = Depends(manager), session: Session = Depends(db)
) -> Response:
    form = await request.form()
    rule = rules.get_rule(session, actor, rule_id)
    try:
        rules.update_rule(session, actor, rule_id, rule_input(dict(form)))
    except InvalidInput as problem:
        return _editor(request, session, rule, _submitted(form), str(problem), status_code=400)
    flash(request, "Rule saved.", "success")
    return RedirectResponse(f"/automation/rules/{rule_id}", status_code=303)


@router.post("/automation/rules/{rule_id}/enabled")
async def switch(
    request: Request, rule_id: Id, actor: Actor = Depends(manager), session: Session = Depends(db)
) -> Response:
    form = await request.form()
    on = str(form.get("enabled", "")) == "true"
    rule = rules.set_enabled(session, actor, rule_id, on)
    flash(request, f"“{rule.name}” is {'on: it acts on events from now' if on else 'off'}.", "success")
    return RedirectResponse(f"/automation/rules/{rule_id}", status_code=303)


@router.post("/automation/rules/{rule_id}/delete")
def delete(
    request: Request, rule_id: Id, actor: Actor = Depends(manager), session: Session = Depends(db)
) -> Response:
    rules.delete_rule(session, actor, rule_id)
    flash(request, "Rule deleted; what it sent stays in the delivery log.", "success")
    return RedirectResponse("/automation/rules", status_code=303)


@router.get("/automation/rules/{rule_id}/try")
def try_rule(
    request: Request,
    rule_id: Id,
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    rule = rules.get_rule(session, actor, rule_id)
    total, plans = preview(session, actor, rule, settings, now=utcnow())
    return render(request, "automation/rule_try.html", rule=rule, total=total, plans=plans)


@router.post("/automation/template-preview")
async def template_preview(
    request: Request,
    actor: Actor = Depends(manager),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    """The message the form's templates make for the latest stored event of its trigger (htmx partial)."""
    form = await request.form()
    trigger = str(form.get("trigger", ""))
    message, error = None, ""
    subject, body = str(form.get("subject_template", "")), str(form.get("body_template", ""))
    sample = latest_event(session, trigger) if trigger in set(EventKind) else None
    try:
        check_template(subject)
        check_template(body)
        if sample is not None:
            message = build_message(
                sample,
                subject_template=subject,
                body_template=body,
                base_url=settings.link_base,
                currency=settings.currency,
            )
    except InvalidInput as problem:
        error = str(problem)
    return render(request, "automation/_template_preview.html", message=message, error=error, trigger=trigger)
