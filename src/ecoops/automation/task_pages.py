"""Tasks pages: "my tasks" for every internal user, and ticking one off."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from ecoops.actors import Actor, ActorKind
from ecoops.automation import tasks
from ecoops.web.deps import db, page_actor
from ecoops.web.fields import Id
from ecoops.web.security import csrf_protect
from ecoops.web.templating import flash, render

router = APIRouter(dependencies=[Depends(csrf_protect)])


async def internal_user(actor: Actor = Depends(page_actor)) -> Actor:
    if actor.kind != ActorKind.USER:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "tasks are for our own users")
    return actor


@router.get("/tasks")
def my_tasks(
    request: Request,
    done: bool = False,
    actor: Actor = Depends(internal_user),
    session: Session = Depends(db),
) -> Response:
    return render(
        request, "automation/tasks.html", tasks=tasks.my_tasks(session, actor, include_done=done), done=done
    )


@router.post("/tasks/{task_id}/done")
def tick(
    request: Request,
    task_id: Id,
    done: bool = Form(True),
    actor: Actor = Depends(internal_user),
    session: Session = Depends(db),
) -> Response:
    task = tasks.mark_done(session, actor, task_id, done=done)
    flash(request, f"“{task.title}” {'done' if done else 'reopened'}.", "success")
    return RedirectResponse("/tasks", status_code=303)
