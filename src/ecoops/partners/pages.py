"""Pages of the partner program: the directory, new partners, a partner's page, and life-cycle moves."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.accounts.models import User
from ecoops.accounts.service import MIN_PASSWORD_LENGTH, InvalidInput, list_partner_users
from ecoops.actors import Actor
from ecoops.automation.nurture.history import partner_history
from ecoops.config import Settings
from ecoops.crm.models import Account
from ecoops.crm.service import by_crm_id, partner_opportunities
from ecoops.onboarding import agreements, checklist
from ecoops.partners import service
from ecoops.partners.editing import PartnerEdit, update_partner
from ecoops.partners.models import Partner, PartnerType, Stage, Tier
from ecoops.partners.programs import FieldError
from ecoops.partners.tier_review import tier_progress
from ecoops.permissions import Permission, allowed
from ecoops.web.deps import app_settings, db, page_permission
from ecoops.web.fields import Id, PageNumber
from ecoops.web.security import csrf_protect
from ecoops.web.templating import flash, render, render_list

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
    program_id: Id | None = None,
    tier_id: Id | None = None,
    stage: str = "",
    owner_id: Id | None = None,
    page: PageNumber = 1,
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    filters = service.PartnerFilters(q, partner_type, program_id, tier_id, stage, owner_id)
    result = service.search_partners(session, actor, filters, page=page, per_page=settings.page_size)
    owners = session.scalars(select(User).where(User.is_active).order_by(User.name)).all()
    owner_names = {user.id: user.name for user in owners}
    return render_list(
        request,
        "partners/list.html",
        "partners/_rows.html",
        page=result,
        filters=filters,
        programs=service.list_programs(session, actor),
        owners=owners,
        owner_names=owner_names,
        partner_types=list(PartnerType),
        stages=list(Stage),
    )


def _new_partner_form(
    request: Request, session: Session, actor: Actor, today: date, status_code: int = 200, **context: Any
) -> Response:
    defaults = {"form": {"stage": Stage.PROSPECT.value, "stage_since": today.isoformat()}, "error": None}
    return render(
        request,
        "partners/new.html",
        status_code=status_code,
        programs=service.list_programs(session, actor, active_only=True),
        owners=session.scalars(select(User).where(User.is_active).order_by(User.name)).all(),
        partner_types=list(PartnerType),
        stages=list(Stage),
        today=today,
        **(defaults | context),
    )


@router.get("/partners/new")
def new_partner(
    request: Request,
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    return _new_partner_form(request, session, actor, settings.today())


@router.post("/partners")
def create_partner(
    request: Request,
    # Generous limits here: the service's own checks explain what is wrong on the form.
    name: str = Form("", max_length=1000),
    partner_type: str = Form(""),
    stage: str = Form(Stage.PROSPECT.value),
    stage_since: str = Form(""),
    website: str = Form("", max_length=300),
    domains: str = Form("", max_length=5000),
    country: str = Form("", max_length=100),
    owner_id: str = Form(""),
    crm_id: str = Form("", max_length=64),
    description: str = Form("", max_length=5000),
    tier_ids: list[Id] = Form([]),
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    owner = _optional_int(owner_id)
    form: dict[str, object] = {
        "name": name,
        "partner_type": partner_type,
        "stage": stage,
        "stage_since": stage_since,
        "website": website,
        "domains": domains,
        "country": country,
        "owner_id": owner,
        "crm_id": crm_id,
        "description": description,
        "tier_ids": tier_ids,
    }
    today = settings.today()
    try:
        since = _form_date(stage_since, "the stage start date")
        if since > today:
            raise InvalidInput(f"the stage start date {since} is in the future")
        tiers = list(session.scalars(select(Tier).where(Tier.id.in_(tier_ids)))) if tier_ids else []
        partner = service.create_partner(
            session,
            actor,
            name=name,
            partner_type=partner_type,
            stage=stage,
            stage_since=since,
            website=website.strip(),
            domains=[d for d in re.split(r"[\s,;]+", domains.strip().lower()) if d],
            country=country.strip(),
            owner_id=owner,
            crm_id=crm_id.strip() or None,
            description=description.strip(),
            tiers=tiers,
        )
    except InvalidInput as exc:
        return _new_partner_form(request, session, actor, today, 400, form=form, error=str(exc))
    flash(
        request, f"{partner.name} is in the directory, {partner.stage} since {since.isoformat()}.", "success"
    )
    return RedirectResponse(f"/partners/{partner.id}", status_code=303)


def _form_date(value: str, label: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"{label} must be a date like 2025-01-31") from None


@router.get("/partners/{partner_id}")
def partner_page(
    request: Request,
    partner_id: Id,
    page: PageNumber = 1,
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
    partner_users = (
        list_partner_users(session, actor, partner_id=partner.id, per_page=200)
        if allowed(actor, Permission.MANAGE_USERS)
        else None
    )
    return render(
        request,
        "partners/detail.html",
        partner=partner,
        owner=owner,
        opportunities=opportunities,
        accounts=by_crm_id(session, actor, Account, (o.account_crm_id for o in opportunities.items))
        if opportunities
        else {},
        partner_users=partner_users,
        min_password_length=MIN_PASSWORD_LENGTH,
        stages=[s for s in Stage if s.value != partner.stage],
        next_stage=service.next_stage(Stage(partner.stage)),
        today=settings.today(),
        sent=partner_history(session, actor, partner.id),
        agreements=agreements.partner_agreements(session, partner.id),
        checklist=checklist.partner_checklist(session, partner.id),
        # The figures are the metrics' (revenue): shown to those who may read them.
        tier_progress=tier_progress(session, actor, settings, partner, settings.today())
        if allowed(actor, Permission.READ_METRICS)
        else None,
    )


@router.post("/partners/{partner_id}/stage")
def move_stage(
    request: Request,
    partner_id: Id,
    to_stage: str = Form(...),
    changed_on: date = Form(...),
    note: str = Form("", max_length=2000),
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    partner = service.get_partner(session, actor, partner_id)
    try:
        service.change_stage(
            session, actor, partner, to=to_stage, on=changed_on, today=settings.today(), note=note
        )
    except InvalidInput as exc:
        flash(request, f"The move was not recorded: {exc}.", "error")
    else:
        flash(request, f"{partner.name} is now {to_stage} (since {changed_on.isoformat()}).", "success")
    return RedirectResponse(f"/partners/{partner_id}", status_code=303)


def _edit_form(
    request: Request, session: Session, actor: Actor, partner: Partner, today: date, **context: Any
) -> Response:
    """The edit form: active programs, plus any retired one the partner still holds (kept if left as is)."""
    held = {m.program_id: m.tier_id for m in partner.memberships}
    shown = [p for p in service.list_programs(session, actor) if p.retired_on is None or p.id in held]
    values = {
        "name": partner.name,
        "partner_type": partner.partner_type,
        "website": partner.website,
        "domains": ", ".join(d.domain for d in partner.domains),
        "country": partner.country,
        "description": partner.description,
        "owner_id": partner.owner_id,
        "tier_ids": set(held.values()),
        "certified_people": partner.certified_people,
        "changed_on": today.isoformat(),
    }
    defaults = {"form": values, "error": None, "status_code": 200}
    return render(
        request,
        "partners/edit.html",
        partner=partner,
        programs=shown,
        held=held,
        owners=session.scalars(select(User).where(User.is_active).order_by(User.name)).all(),
        partner_types=list(PartnerType),
        today=today,
        **(defaults | context),
    )


@router.get("/partners/{partner_id}/edit")
def edit_partner_form(
    request: Request,
    partner_id: Id,
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    partner = service.get_partner(session, actor, partner_id)
    return _edit_form(request, session, actor, partner, settings.today())


@router.post("/partners/{partner_id}/edit")
def edit_partner(
    request: Request,
    partner_id: Id,
    name: str = Form("", max_length=1000),
    partner_type: str = Form(""),
    website: str = Form("", max_length=1000),
    domains: str = Form("", max_length=5000),
    country: str = Form("", max_length=100),
    owner_id: str = Form(""),
    description: str = Form("", max_length=5000),
    tier_ids: list[str] = Form([]),
    certified_people: str = Form("", max_length=20),
    changed_on: str = Form(""),
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    # One select per program: "" means not in that program.
    chosen = [int(t) for t in tier_ids if t.strip().isdigit()]
    owner = _optional_int(owner_id)
    form: dict[str, object] = {
        "name": name,
        "partner_type": partner_type,
        "website": website,
        "domains": domains,
        "country": country,
        "description": description,
        "owner_id": owner,
        "tier_ids": set(chosen),
        "certified_people": certified_people,
        "changed_on": changed_on,
    }
    edit = PartnerEdit(
        name=name,
        partner_type=partner_type,
        website=website,
        domains=[d for d in re.split(r"[\s,;]+", domains.strip().lower()) if d],
        country=country,
        description=description,
        owner_id=owner,
        clear_owner=owner is None,
        tier_ids=chosen,
    )
    today = settings.today()
    try:
        if certified_people.strip():
            if not certified_people.strip().isdigit():
                raise FieldError("certified_people", f"a whole number, not {certified_people!r}")
            edit = replace(edit, certified_people=int(certified_people.strip()))
        on = _form_date(changed_on, "the change date")
        lines = update_partner(session, actor, partner_id, edit, on=on, today=today)
    except InvalidInput as exc:
        partner = service.get_partner(session, actor, partner_id)
        return _edit_form(request, session, actor, partner, today, form=form, error=str(exc), status_code=400)
    message = f"{len(lines)} change(s) recorded as of {on.isoformat()}." if lines else "Nothing had changed."
    flash(request, message, "success")
    return RedirectResponse(f"/partners/{partner_id}", status_code=303)
