"""Linking our users to their Slack member ids: for mentions, direct messages, and knowing who pressed
a Slack button. Only user admins link ids, since a linked Slack account acts as that user."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.accounts.models import User
from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor
from ecoops.permissions import NotFound, Permission, require

SLACK_MEMBER_ID = re.compile(r"^[UW][A-Z0-9]{2,39}$")


def set_slack_user_id(session: Session, actor: Actor, user_id: int, slack_user_id: str) -> User:
    """Link (or, with an empty id, unlink) a user's Slack member id; one user per Slack account."""
    require(actor, Permission.MANAGE_USERS)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    slack_user_id = slack_user_id.strip().upper()
    if slack_user_id and not SLACK_MEMBER_ID.match(slack_user_id):
        raise InvalidInput(
            f"not a Slack member id: {slack_user_id[:40]!r} (it looks like U0123ABCD; find it in the "
            "person's Slack profile under “Copy member ID”)"
        )
    if slack_user_id:
        holder = session.scalar(select(User).where(User.slack_user_id == slack_user_id, User.id != user_id))
        if holder is not None:
            raise InvalidInput(f"{slack_user_id} is already linked to {holder.name}")
    user.slack_user_id = slack_user_id
    session.flush()
    audit.record(session, actor, "user.slack_linked", "user", user.id, slack_user_id=slack_user_id)
    return user
