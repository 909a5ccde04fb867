"""The Slack users page: user admins link each of our users to their Slack member id."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.accounts.models import User
from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor
from ecoops.automation.slack_users import set_slack_user_id
from ecoops.permissions import Permission
from ecoops.web.deps import db, page_permission
from ecoops.web.fields import Id
from ecoops.web.security import csrf_protect
from ecoops.web.templating import flash, render

router = APIRouter(dependencies=[Depends(csrf_protect)])
user_admin = page_permission(Permission.MANAGE_USERS)


@router.get("/automation/slack-users")
def slack_users(
    request: Request, actor: Actor = Depends(user_admin), session: Session = Depends(db)
) -> Response:
    users = session.scalars(select(User).order_by(User.is_active.desc(), User.name)).all()
    return render(request, "automation/slack_users.html", users=users)


@router.post("/automation/slack-users/{user_id}")
def link_slack_user(
    request: Request,
    user_id: Id,
    slack_user_id: str = Form("", max_length=60),
    actor: Actor = Depends(user_admin),
    session: Session = Depends(db),
) -> Response:
    try:
        user = set_slack_user_id(session, actor, user_id, slack_user_id)
        flash(
            request,
            f"{user.name}: {'linked to ' + user.slack_user_id if user.slack_user_id else 'unlinked'}.",
            "success",
        )
    except InvalidInput as problem:
        flash(request, f"Not saved: {problem}", "error")
    return RedirectResponse("/automation/slack-users", status_code=303)
