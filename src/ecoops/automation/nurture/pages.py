"""Pages of nurture: the sequences, one sequence's editor (htmx for its steps), switching on and off."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from jinja2 import TemplateError
from sqlalchemy.orm import Session

from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor
from ecoops.automation.nurture import sequences, templates
from ecoops.automation.nurture.models import NurtureSequence
from ecoops.partners.models import Stage
from ecoops.permissions import Permission
from ecoops.web.deps import db, page_permission
from ecoops.web.fields import Id
from ecoops.web.security import csrf_protect
from ecoops.web.templating import flash, render

router = APIRouter(dependencies=[Depends(csrf_protect)])
manager = page_permission(Permission.MANAGE_AUTOMATION)


def _is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def preview(template: str) -> str:
    """The template rendered with sample values, for the editor's list of steps."""
    try:
        return templates.render(template, templates.SAMPLE)
    except TemplateError as exc:  # a stored template that no longer renders says why
        return f"(does not render: {exc})"


def _editor(
    request: Request, sequence: NurtureSequence, *, status_code: int = 200, **context: Any
) -> Response:
    return render(
        request,
        "automation/nurture_edit.html",
        status_code=status_code,
        sequence=sequence,
        stages=list(Stage),
        channels=sequences.CHANNEL_LABELS,
        variables=templates.VARIABLES,
        preview=preview,
        **({"error": None, "step_error": None, "new_step": None} | context),
    )


def _steps(request: Request, sequence: NurtureSequence, **context: Any) -> Response:
    """The steps part of the editor: what htmx swaps in after a step is added, changed or removed."""
    return render(
        request,
        "automation/_nurture_steps.html",
        sequence=sequence,
        channels=sequences.CHANNEL_LABELS,
        preview=preview,
        **({"step_error": None, "new_step": None} | context),
    )


@router.get("/automation/nurture")
def sequence_list(
    request: Request, actor: Actor = Depends(manager), session: Session = Depends(db)
) -> Response:
    return render(
        request,
        "automation/nurture_list.html",
        sequences=sequences.list_sequences(session, actor),
        stages=list(Stage),
        form={},
        error=None,
    )


@router.post("/automation/nurture")
def create_sequence(
    request: Request,
    name: str = Form("", max_length=1000),
    stage: str = Form(""),
    description: str = Form("", max_length=5000),
    actor: Actor = Depends(manager),
    session: Session = Depends(db),
) -> Response:
    try:
        sequence = sequences.create_sequence(session, actor, name=name, stage=stage, description=description)
    except InvalidInput as exc:
        return render(
            request,
            "automation/nurture_list.html",
            status_code=400,
            sequences=sequences.list_sequences(session, actor),
            stages=list(Stage),
            form={"name": name, "stage": stage, "description": description},
            error=str(exc),
        )
    flash(
        request,
        f"Sequence {sequence.name!r} created, switched off: add its steps, then switch it on.",
        "success",
    )
    return RedirectResponse(f"/automation/nurture/{sequence.id}", status_code=303)


@router.get("/automation/nurture/{sequence_id}")
def edit_sequence(
    request: Request, sequence_id: Id, actor: Actor = Depends(manager), session: Session = Depends(db)
) -> Response:
    return _editor(request, sequences.get_sequence(session, actor, sequence_id))


@router.post("/automation/nurture/{sequence_id}")
def update_sequence(
    request: Request,
    sequence_id: Id,
    name: str = Form("", max_length=1000),
    stage: str = Form(""),
    description: str = Form("", max_length=5000),
    actor: Actor = Depends(manager),
    session: Session = Depends(db),
) -> Response:
    sequence = sequences.get_sequence(session, actor, sequence_id)
    try:
        with session.begin_nested():  # nothing half-changed is left when a check refuses
            sequences.update_sequence(
                session, actor, sequence, name=name, stage=stage, description=description
            )
    except InvalidInput as exc:
        session.refresh(sequence)
        return _editor(request, sequence, status_code=400, error=str(exc))
    flash(request, "Sequence saved.", "success")
    return RedirectResponse(f"/automation/nurture/{sequence.id}", status_code=303)


@router.post("/automation/nurture/{sequence_id}/enabled")
def switch_sequence(
    request: Request,
    sequence_id: Id,
    enabled: bool = Form(...),
    actor: Actor = Depends(manager),
    session: Session = Depends(db),
) -> Response:
    sequence = sequences.get_sequence(session, actor, sequence_id)
    try:
        sequences.set_enabled(session, actor, sequence, enabled)
    except InvalidInput as exc:
        flash(request, f"Not switched on: {exc}.", "error")
    else:
        state = "on: partners in its stage are enrolled at the next tick" if enabled else "off"
        flash(request, f"{sequence.name} is {state}.", "success")
    return RedirectResponse(f"/automation/nurture/{sequence.id}", status_code=303)


def step_form(
    delay_days: str = Form("", max_length=20),
    channel: str = Form("", max_length=40),
    subject: str = Form("", max_length=1000),
    body: str = Form("", max_length=20000),
    slack_channel: str = Form("", max_length=200),
    content_url: str = Form("", max_length=1000),
    content_title: str = Form("", max_length=500),
    contact_role: str = Form("", max_length=20),
) -> sequences.StepInput:
    return sequences.StepInput(
        delay_days, channel, subject, body, slack_channel, content_url, content_title, contact_role
    )


def _after_step(
    request: Request, sequence: NurtureSequence, message: str, error: str | None, **context: Any
) -> Response:
    """htmx gets the steps part back (with the error beside the form); a plain form post, a redirect."""
    if _is_htmx(request):
        return _steps(request, sequence, step_error=error, **context)
    flash(request, error or message, "error" if error else "success")
    return RedirectResponse(f"/automation/nurture/{sequence.id}", status_code=303)


@router.post("/automation/nurture/{sequence_id}/steps")
def add_step(
    request: Request,
    sequence_id: Id,
    data: sequences.StepInput = Depends(step_form),
    actor: Actor = Depends(manager),
    session: Session = Depends(db),
) -> Response:
    sequence = sequences.get_sequence(session, actor, sequence_id)
    try:
        sequences.add_step(session, actor, sequence, data)
    except InvalidInput as exc:
        return _after_step(request, sequence, "", str(exc), new_step=data)
    return _after_step(request, sequence, "Step added.", None)


@router.post("/automation/nurture-steps/{nurture_step_id}")
def update_step(
    request: Request,
    nurture_step_id: Id,
    data: sequences.StepInput = Depends(step_form),
    actor: Actor = Depends(manager),
    session: Session = Depends(db),
) -> Response:
    step = sequences.get_step(session, actor, nurture_step_id)
    try:
        with session.begin_nested():
            sequences.update_step(session, actor, step, data)
    except InvalidInput as exc:
        session.refresh(step)
        return _after_step(request, step.sequence, "", f"Step not saved: {exc}")
    return _after_step(request, step.sequence, "Step saved.", None)


@router.post("/automation/nurture-steps/{nurture_step_id}/delete")
def delete_step(
    request: Request, nurture_step_id: Id, actor: Actor = Depends(manager), session: Session = Depends(db)
) -> Response:
    step = sequences.get_step(session, actor, nurture_step_id)
    sequence = step.sequence
    try:
        sequences.delete_step(session, actor, step)
    except InvalidInput as exc:
        return _after_step(request, sequence, "", str(exc))
    return _after_step(request, sequence, "Step removed.", None)
