"""Plan vs actual where people look: the goals a dashboard's filters select, and a digest reader's goals.

A dashboard shows the goals whose month or quarter holds its as-of date, of the scopes its filters
name: the workspace's when no partner filter is set, else the goals of the filtered programs, partners
and partner managers (tier and type filters name no goal scope). Each actual is the goal's own: its
scope and period, as of the dashboard's date.

A digest reader's goals are those in force on the digest's day for the workspace, for the reader as a
partner manager, and for each partner the reader manages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.actors import Actor
from ecoops.config import Settings
from ecoops.engines.metrics import Filters
from ecoops.goals import service
from ecoops.goals.actuals import Progress, progress
from ecoops.goals.models import Scope
from ecoops.partners.models import Partner

PANEL_SIZE = 50  # a dashboard shows at most this many goals; the goals page has them all


@dataclass(frozen=True)
class GoalLine:
    """A goal's progress and the name of what it is for ("partner Acme")."""

    progress: Progress
    scope_name: str


def scope_keys(filters: Filters) -> list[str]:
    """The goal scopes a dashboard's filters select (none for tier or type filters alone)."""
    if not (filters.program_ids or filters.partner_ids or filters.partner_owner_ids):
        return [] if filters.selects_partners else [Scope.WORKSPACE.value]
    return [
        *(f"{Scope.PROGRAM}:{i}" for i in filters.program_ids),
        *(f"{Scope.PARTNER}:{i}" for i in filters.partner_ids),
        *(f"{Scope.MANAGER}:{i}" for i in filters.partner_owner_ids),
    ]


def lines(session: Session, actor: Actor, config: Settings, keys: list[str], on: date) -> list[GoalLine]:
    """The goals of `keys` whose period holds `on`, with their progress as of `on`."""
    if not keys:
        return []
    goals = service.list_goals(session, actor, on=on, scope_keys=keys, per_page=PANEL_SIZE).items
    return [
        GoalLine(p, service.describe_scope(session, p.goal))
        for p in progress(session, actor, config, goals, on)
    ]


def reader_scope_keys(session: Session, user_id: int) -> list[str]:
    """The workspace, the user as a partner manager, and the partners the user manages."""
    managed = session.scalars(select(Partner.id).where(Partner.owner_id == user_id).order_by(Partner.id))
    return [Scope.WORKSPACE.value, f"{Scope.MANAGER}:{user_id}", *(f"{Scope.PARTNER}:{i}" for i in managed)]
