"""The demo's goals: this quarter's and this month's, for the workspace, the first program, two producing
partners, the first portal partner and two partner managers, each target a fifth above what the same
scope did the period before (rounded up; a floor where it did nothing), so the goals page and the
overview's plan-vs-actual panel show progress of every kind: some met, some on pace, some behind."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.accounts.models import PartnerUser
from ecoops.actors import Actor
from ecoops.config import Settings
from ecoops.goals import service
from ecoops.goals.actuals import progress
from ecoops.goals.models import MONEY_METRICS, Goal, Metric, PeriodKind, Scope
from ecoops.goals.service import GoalInput, period_start
from ecoops.partners.models import Partner, Program, Stage

GROWTH = 1.2
MONEY_STEP, MONEY_FLOOR = 5_000, 10_000


@dataclass(frozen=True)
class _Plan:
    metric: Metric
    period: PeriodKind
    scope: Scope
    scope_id: int | None = None
    stage: str = ""


def _plans(session: Session) -> list[_Plan]:
    quarter, month = PeriodKind.QUARTER, PeriodKind.MONTH
    plans = [
        _Plan(Metric.SOURCED_REVENUE, quarter, Scope.WORKSPACE),
        _Plan(Metric.INFLUENCED_REVENUE, quarter, Scope.WORKSPACE),
        _Plan(Metric.PARTNER_PIPELINE, quarter, Scope.WORKSPACE),
        _Plan(Metric.PARTNERS_IN_STAGE, quarter, Scope.WORKSPACE, stage=Stage.PRODUCING.value),
        _Plan(Metric.REFERRALS, month, Scope.WORKSPACE),
        _Plan(Metric.SOURCED_REVENUE, month, Scope.WORKSPACE),
    ]
    program = session.scalar(select(Program.id).order_by(Program.id))
    if program is not None:
        plans += [_Plan(Metric.SOURCED_REVENUE, quarter, Scope.PROGRAM, program)]
    producing = select(Partner.id).where(Partner.stage == Stage.PRODUCING.value).order_by(Partner.id).limit(2)
    # The first portal partner too: its QBR pack (and the joint plan of demo/enablement.py) shows its goals.
    portal = select(PartnerUser.partner_id).order_by(PartnerUser.partner_id).limit(1)
    for partner in dict.fromkeys([*session.scalars(producing), *session.scalars(portal)]):
        plans += [
            _Plan(Metric.SOURCED_REVENUE, quarter, Scope.PARTNER, partner),
            _Plan(Metric.REFERRALS, month, Scope.PARTNER, partner),
        ]
    managers = (
        select(Partner.owner_id).where(Partner.owner_id.is_not(None)).distinct().order_by(Partner.owner_id)
    )
    for manager in list(session.scalars(managers))[:2]:
        plans += [
            _Plan(Metric.SOURCED_REVENUE, quarter, Scope.MANAGER, manager),
            _Plan(Metric.REFERRALS, month, Scope.MANAGER, manager),
        ]
    return plans


def _target(metric: str, before: float | None) -> str:
    wanted = (before or 0) * GROWTH
    if metric in MONEY_METRICS:
        return str(max(MONEY_FLOOR, math.ceil(wanted / MONEY_STEP) * MONEY_STEP))
    return str(max(1, math.ceil(wanted)))


def seed_goals(session: Session, actor: Actor, settings: Settings, today: date) -> int:
    """Set the demo's goals for the quarter and month holding `today`; how many."""
    plans = _plans(session)
    starts = {kind: period_start(kind, today) for kind in PeriodKind}
    # What each scope did the period before, read the way goals read their actuals.
    earlier = [
        Goal(
            metric=p.metric.value,
            stage=p.stage,
            period=p.period.value,
            starts_on=period_start(p.period, starts[p.period] - timedelta(days=1)),
            target=1,
            program_id=p.scope_id if p.scope == Scope.PROGRAM else None,
            partner_id=p.scope_id if p.scope == Scope.PARTNER else None,
            user_id=p.scope_id if p.scope == Scope.MANAGER else None,
        )
        for p in plans
    ]
    before = progress(session, actor, settings, earlier, today)
    for plan, last in zip(plans, before, strict=True):
        data = GoalInput(
            plan.metric.value,
            plan.scope.value,
            plan.period.value,
            starts[plan.period],
            _target(plan.metric, last.actual),
            scope_id=plan.scope_id,
            stage=plan.stage,
        )
        service.create_goal(session, actor, data)
    return len(plans)
