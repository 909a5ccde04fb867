"""Setting up a program's onboarding on /programs: its agreement version and its checklist items."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor
from ecoops.onboarding import agreements, checklist
from ecoops.partners import programs
from ecoops.permissions import Permission
from ecoops.web.deps import db, page_permission
from ecoops.web.fields import Id
from ecoops.web.security import csrf_protect
from ecoops.web.templating import flash

router = APIRouter(dependencies=[Depends(csrf_protect)])
editor = page_permission(Permission.EDIT_PROGRAM)


def _back(program_id: int) -> Response:
    return RedirectResponse(f"/programs#onboarding-{program_id}", status_code=303)


@router.post("/programs/{program_id}/agreement")
def set_agreement(
    request: Request,
    program_id: Id,
    version: str = Form("", max_length=1000),
    text: str = Form("", max_length=50_000),
    url: str = Form("", max_length=5000),
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
) -> Response:
    program = programs.get_program(session, actor, program_id)
    try:
        agreements.set_agreement(session, actor, program, version=version, text=text, url=url)
    except InvalidInput as problem:
        flash(request, f"The agreement was not saved: {problem}.", "error")
    else:
        said = f"version {program.agreement_version}" if program.agreement_version else "no agreement"
        flash(request, f"{program.name} now has {said}.", "success")
    return _back(program_id)


@router.post("/programs/{program_id}/checklist")
def add_item(
    request: Request,
    program_id: Id,
    title: str = Form("", max_length=1000),
    help_text: str = Form("", max_length=5000),
    gates_stage: str = Form("", max_length=20),
    done_by_agreement: bool = Form(False),
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
) -> Response:
    program = programs.get_program(session, actor, program_id)
    try:
        item = checklist.add_item(
            session,
            actor,
            program,
            title=title,
            help_text=help_text,
            gates_stage=gates_stage,
            done_by_agreement=done_by_agreement,
        )
    except InvalidInput as problem:
        flash(request, f"No item was added: {problem}.", "error")
    else:
        flash(request, f"{item.title} now holds moves into {item.gates_stage}.", "success")
    return _back(program_id)


@router.post("/programs/{program_id}/checklist/{item_id}/delete")
def delete_item(
    request: Request,
    program_id: Id,
    item_id: Id,
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
) -> Response:
    checklist.delete_item(session, actor, program_id, item_id)
    flash(request, "The item is removed from the checklist.", "success")
    return _back(program_id)
