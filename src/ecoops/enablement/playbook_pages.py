"""Playbook pages: the list by motion, a playbook's steps with their content, and the forms that write
them (add a step, remove one, publish to the portal)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from ecoops.actors import Actor
from ecoops.enablement import playbooks
from ecoops.enablement.content import readable_content
from ecoops.enablement.models import ContentItem
from ecoops.enablement.pages import partner_choice
from ecoops.enablement.panels import step_contents
from ecoops.partners.programs import FieldError
from ecoops.partners.service import partner_choices
from ecoops.permissions import Permission
from ecoops.web.changes import change_and_return
from ecoops.web.deps import db, page_permission
from ecoops.web.fields import Id
from ecoops.web.security import csrf_protect
from ecoops.web.templating import render

router = APIRouter(dependencies=[Depends(csrf_protect)])
reader = page_permission(Permission.READ_PROGRAM)
editor = page_permission(Permission.EDIT_PROGRAM)


@router.get("/enablement/playbooks")
def playbook_list(
    request: Request, actor: Actor = Depends(reader), session: Session = Depends(db)
) -> Response:
    found = playbooks.list_playbooks(session, actor)
    return render(
        request,
        "enablement/playbooks.html",
        playbooks=found,
        motions=playbooks.PLAYBOOK_MOTIONS,
        names=dict(partner_choices(session)),
    )


@router.post("/enablement/playbooks")
def create_playbook(
    request: Request,
    title: str = Form("", max_length=1000),
    motion: str = Form("", max_length=40),
    summary: str = Form("", max_length=10_000),
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
) -> Response:
    created: list[int] = []

    def work() -> str:
        playbook = playbooks.create_playbook(session, actor, title=title, motion=motion, summary=summary)
        created.append(playbook.id)
        return f"Playbook {playbook.title} created: add its steps."

    response = change_and_return(request, work, "/enablement/playbooks")
    if created:
        response.headers["location"] = f"/enablement/playbooks/{created[0]}"
    return response


@router.get("/enablement/playbooks/{playbook_id}")
def playbook_page(
    request: Request, playbook_id: Id, actor: Actor = Depends(reader), session: Session = Depends(db)
) -> Response:
    playbook = playbooks.get_playbook(session, actor, playbook_id)
    return render(
        request,
        "enablement/playbook.html",
        playbook=playbook,
        contents=step_contents(session, actor, [playbook]),
        library=session.scalars(readable_content(actor).order_by(ContentItem.title)).all(),
        partners=(partners := partner_choices(session)),
        names=dict(partners),
        sides=playbooks.STEP_SIDES,
    )


@router.post("/enablement/playbooks/{playbook_id}/steps")
def add_step(
    request: Request,
    playbook_id: Id,
    title: str = Form("", max_length=1000),
    detail: str = Form("", max_length=10_000),
    who: str = Form("both", max_length=20),
    content_id: str = Form("", max_length=12),
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
) -> Response:
    playbook = playbooks.get_playbook(session, actor, playbook_id)

    def work() -> str:
        if content_id and (not content_id.isdigit() or len(content_id) > 10):
            raise FieldError("content_id", f"pick an item of the library, not {content_id!r}")
        step = playbooks.add_step(
            session,
            actor,
            playbook,
            title=title,
            detail=detail,
            who=who,
            content_id=int(content_id) if content_id else None,
        )
        return f"Step {step.position} added: {step.title}."

    return change_and_return(request, work, f"/enablement/playbooks/{playbook.id}")


@router.post("/enablement/playbooks/{playbook_id}/steps/{step_id}/delete")
def remove_step(
    request: Request,
    playbook_id: Id,
    step_id: Id,
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
) -> Response:
    playbook = playbooks.get_playbook(session, actor, playbook_id)

    def work() -> str:
        playbooks.remove_step(session, actor, playbook, step_id)
        return "Step removed."

    return change_and_return(request, work, f"/enablement/playbooks/{playbook.id}")


@router.post("/enablement/playbooks/{playbook_id}/publish")
def publish(
    request: Request,
    playbook_id: Id,
    published: bool = Form(False),
    partner_id: str = Form("", max_length=20),
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
) -> Response:
    playbook = playbooks.get_playbook(session, actor, playbook_id)

    def work() -> str:
        playbooks.publish(
            session, actor, playbook, published=published, partner_id=partner_choice(partner_id)
        )
        return "Shown in the portal." if published else "Hidden from the portal."

    return change_and_return(request, work, f"/enablement/playbooks/{playbook.id}")
