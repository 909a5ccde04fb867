"""Each goal's actual, from the metrics engine's own figures (metrics/service.py), and its progress.

The actual of a goal is the figure the dashboards show for the goal's scope and period:
- sourced and influenced revenue: the `revenue` figure over the period (won deals closed in it);
- partner pipeline: the `pipeline` figure's sourced plus influenced amounts (open partner-attached
  deals), on the period's last day;
- referrals: the referrals partners sent us (`give_and_get`'s received) created in the period;
- partners in a stage: the `partners_per_stage` count for that stage on the period's last day.
Each stands as of the period's last day, or of `today` while the period runs; a period not begun has
no actual yet. The scope becomes the engine's filter: a program, a partner, or a partner manager's
partners (the partner owner); the workspace is unfiltered. An empty cohort ("no data") counts 0.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal

import pyarrow as pa
from sqlalchemy.orm import Session

from ecoops.actors import Actor
from ecoops.config import Settings
from ecoops.engines.metrics import NO_FILTERS, Filters, Period
from ecoops.goals.models import Goal, Metric
from ecoops.metrics import service

# The dashboard figure each metric reads.
FIGURE_OF = {
    Metric.SOURCED_REVENUE: "revenue",
    Metric.INFLUENCED_REVENUE: "revenue",
    Metric.PARTNER_PIPELINE: "pipeline",
    Metric.REFERRALS: "give_and_get",
    Metric.PARTNERS_IN_STAGE: "partners_per_stage",
}
Status = Literal["met", "on pace", "behind", "missed", "not started"]
# Levels on a day rather than sums over the period: their pace is the target itself, not a share of it.
LEVELS = frozenset({Metric.PARTNER_PIPELINE, Metric.PARTNERS_IN_STAGE})


@dataclass(frozen=True)
class Progress:
    """A goal with its actual on `as_of` (None before its period begins) and the share of it elapsed."""

    goal: Goal
    actual: float | None
    as_of: date
    elapsed: float  # 0 … 1: the days of the period up to `as_of` over all its days
    over: bool = False  # the period ended before the day asked about

    @property
    def ratio(self) -> float:
        """Actual over target (0 with no actual yet); may pass 1."""
        return (self.actual or 0.0) / float(self.goal.target)

    @property
    def expected(self) -> float:
        """Where the actual should stand by now: the target for a level, else the elapsed share of it."""
        return 1.0 if self.goal.metric in LEVELS else self.elapsed

    @property
    def status(self) -> Status:
        """ "met", "on pace", "behind", "missed" (period over), or "not started"."""
        if self.actual is None:
            return "not started"
        if self.ratio >= 1:
            return "met"
        if self.over:
            return "missed"
        return "on pace" if self.ratio >= self.expected else "behind"


def goal_filters(goal: Goal) -> Filters:
    """The engine filter of the goal's scope."""
    if goal.program_id:
        return Filters(program_ids=(goal.program_id,))
    if goal.partner_id:
        return Filters(partner_ids=(goal.partner_id,))
    if goal.user_id:
        return Filters(partner_owner_ids=(goal.user_id,))
    return NO_FILTERS


def _elapsed(goal: Goal, as_of: date) -> float:
    days = (goal.ends_on - goal.starts_on).days + 1
    return max(0, min(days, (as_of - goal.starts_on).days + 1)) / days


def _read(goal: Goal, table: pa.Table) -> float:
    rows = table.to_pylist()
    if goal.metric in (Metric.SOURCED_REVENUE, Metric.INFLUENCED_REVENUE):
        wanted = goal.metric.removesuffix("_revenue")
        return sum(r["revenue"] or 0.0 for r in rows if r["classification"] == wanted)
    if goal.metric == Metric.PARTNER_PIPELINE:
        return sum(r["pipeline"] or 0.0 for r in rows if r["classification"] != "direct")
    if goal.metric == Metric.REFERRALS:
        return float(sum(r["referrals_received"] for r in rows))
    return float(sum(r["partners"] for r in rows if r["stage"] == goal.stage))


def progress(
    session: Session, actor: Actor, config: Settings, goals: Iterable[Goal], today: date
) -> list[Progress]:
    """Each goal's progress as of `today`, in the order given; goals of the same scope and period share
    one metrics query (and its cache)."""
    goals = list(goals)
    wanted: dict[service.MetricsQuery, set[str]] = defaultdict(set)
    query_of: dict[int, service.MetricsQuery] = {}
    for goal in goals:
        if today < goal.starts_on:
            continue
        query = service.MetricsQuery(
            as_of=min(today, goal.ends_on),
            period=Period(goal.starts_on, goal.ends_on),
            filters=goal_filters(goal),
        )
        query_of[id(goal)] = query
        wanted[query].add(FIGURE_OF[Metric(goal.metric)])
    figures = {
        query: service.report(session, actor, config, query, sorted(names)).figures
        for query, names in wanted.items()
    }
    found = []
    for goal in goals:
        asked = query_of.get(id(goal))
        if asked is None:
            found.append(Progress(goal, None, today, 0.0))
            continue
        table = figures[asked][FIGURE_OF[Metric(goal.metric)]]
        actual = _read(goal, table)
        found.append(Progress(goal, actual, asked.as_of, _elapsed(goal, asked.as_of), today > goal.ends_on))
    return found
