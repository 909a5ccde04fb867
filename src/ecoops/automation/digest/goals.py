"""The goals in each weekly digest, and the partner managers who get a digest for their goals alone.

A reader's goals (goals/plan.py) are those in force on the digest's day for the workspace, for the
reader as a partner manager, and for each partner the reader manages, each with its progress. An
active user with a goal of their own (as manager, or of a partner they manage) gets a digest even
without overlaps or referrals; the workspace's goals alone send no one a digest.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.accounts.models import User
from ecoops.actors import SYSTEM
from ecoops.automation.digest.picks import Digest
from ecoops.config import Settings
from ecoops.goals import plan
from ecoops.goals.models import Goal
from ecoops.goals.service import in_force
from ecoops.partners.models import Partner


def _goal_holders(session: Session, today: date) -> list[User]:
    """Active users with a goal in force as partner manager or for a partner they manage."""
    own = select(Goal.user_id).where(in_force(today), Goal.user_id.is_not(None))
    managed = select(Partner.owner_id).join(Goal, Goal.partner_id == Partner.id).where(in_force(today))
    return list(
        session.scalars(
            select(User)
            .where(User.is_active, User.id.in_(own.union(managed).scalar_subquery()))
            .order_by(User.id)
        )
    )


def add_goals(session: Session, config: Settings, digests: list[Digest], today: date) -> list[Digest]:
    """The digests with their readers' goals, one more per goal holder without a digest; by user id."""
    by_user = {digest.user.id: digest for digest in digests}
    for user in _goal_holders(session, today):
        by_user.setdefault(user.id, Digest(user))
    for digest in by_user.values():
        keys = plan.reader_scope_keys(session, digest.user.id)
        digest.goals = plan.lines(session, SYSTEM, config, keys, today)
    return [d for _, d in sorted(by_user.items()) if d.overlaps or d.referrals or d.goals]
