"""The public partner application form at /apply: no sign-in, rate-limited per address, spam-checked."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from ecoops.accounts.service import InvalidInput
from ecoops.config import Settings
from ecoops.onboarding import applications, form_guard
from ecoops.onboarding.applications import ApplicationInput
from ecoops.partners.models import PartnerType
from ecoops.partners.programs import FieldError
from ecoops.web.auth_pages import client_address
from ecoops.web.deps import app_settings, db
from ecoops.web.security import csrf_protect
from ecoops.web.templating import render

router = APIRouter(dependencies=[Depends(csrf_protect)])


def _form(
    request: Request,
    session: Session,
    settings: Settings,
    data: ApplicationInput | None = None,
    *,
    status_code: int = 200,
    error: InvalidInput | None = None,
) -> Response:
    context: dict[str, Any] = {
        "form": data or ApplicationInput("", "", "", "", "", "", "", "", None),
        "programs": applications.open_programs(session),
        "partner_types": list(PartnerType),
        "stamp": form_guard.form_stamp(settings),
        "honeypot": form_guard.HONEYPOT_FIELD,
        "error": str(error) if error else None,
        "error_field": error.field if isinstance(error, FieldError) else None,
    }
    return render(request, "onboarding/apply.html", status_code=status_code, **context)


@router.get("/apply")
def apply_form(
    request: Request, session: Session = Depends(db), settings: Settings = Depends(app_settings)
) -> Response:
    return _form(request, session, settings)


@router.post("/apply")
def apply(
    request: Request,
    company: str = Form("", max_length=1000),
    website: str = Form("", max_length=1000),
    country: str = Form("", max_length=100),
    partner_type: str = Form("", max_length=100),
    contact_name: str = Form("", max_length=1000),
    email: str = Form("", max_length=1000),
    contact_role: str = Form("", max_length=100),
    message: str = Form("", max_length=20000),
    program_id: str = Form("", max_length=20),
    stamp: str = Form("", max_length=200),
    fax_number: str = Form("", max_length=1000),  # form_guard.HONEYPOT_FIELD
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    program = int(program_id) if program_id.strip().isdigit() and len(program_id) < 10 else None
    data = ApplicationInput(
        company, website, country, partner_type, contact_name, email, contact_role, message, program
    )
    address = client_address(request)
    try:
        form_guard.check_budget(session, address)
    except form_guard.RateLimited as problem:
        return render(request, "error.html", status_code=429, status=429, message=str(problem))
    try:
        form_guard.check_human(
            settings, stamp=stamp, honeypot=fax_number, texts=[company, contact_name, message]
        )
    except form_guard.LooksLikeSpam as problem:
        form_guard.spend_budget(session, address)
        return _form(request, session, settings, data, status_code=400, error=problem)
    except InvalidInput as problem:
        return _form(request, session, settings, data, status_code=400, error=problem)
    try:
        application = applications.submit_application(session, data, address=address)
    except InvalidInput as problem:
        return _form(request, session, settings, data, status_code=400, error=problem)
    form_guard.spend_budget(session, address)
    return render(request, "onboarding/apply_thanks.html", application=application)
