"""A partner user's own figures for its portal home: pipeline, credited revenue, referral conversion, tier
progress and what waits on it.

Every figure is the metrics engine's (docs/metrics.md), asked with the partner filter set to the actor's
own partner and nothing else, and each row read back is checked to be that partner's: no figure of
another partner, and no company-wide one (the pipeline's "direct" class is ours, not the partner's),
reaches the page. The engine is asked as the system: partner users do not hold `read_metrics`, and
what they may see is decided here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ecoops.actors import SYSTEM, Actor
from ecoops.commissions.models import FundRequest, FundStatus
from ecoops.config import Settings
from ecoops.engines.metrics import Filters
from ecoops.metrics.service import MetricsQuery, report, trailing_year
from ecoops.partners.models import Membership, Partner, Tier
from ecoops.partners.tier_figures import METRICS, TierFigures
from ecoops.portal.service import require_partner_user
from ecoops.referrals.models import Direction, Referral, Status

PARTNER_CLASSES = ("sourced", "influenced")  # the pipeline's classes a partner has a part in


@dataclass(frozen=True)
class Criterion:
    label: str
    value: float
    threshold: float
    money: bool
    met: bool


@dataclass(frozen=True)
class TierProgress:
    program: str
    held: str  # the tier held, "" for none
    next_tier: str  # "" when the partner holds the program's top tier
    criteria: list[Criterion]  # the next tier's, with the partner's figures


@dataclass(frozen=True)
class Task:
    title: str
    link: str
    due: date | None = None


@dataclass(frozen=True)
class PortalFigures:
    partner_id: int
    start: date
    end: date
    pipeline: dict[str, tuple[int, float]]  # class -> (open opportunities, amount)
    credited_model: str
    credited_deals: int
    credited_revenue: float
    referrals: int  # referrals and introductions exchanged with us in the period, both directions
    became_opportunities: int
    won: int
    conversion: float | None  # became an opportunity / referrals; None without referrals
    tiers: list[TierProgress]
    tasks: list[Task]


def _own(rows: list[dict[str, Any]], partner_id: int) -> list[dict[str, Any]]:
    return [row for row in rows if row.get("partner_id") == partner_id]


def portal_figures(session: Session, actor: Actor, config: Settings, today: date) -> PortalFigures:
    """The actor's own partner's figures over the trailing year to `today` (pipeline: on `today`)."""
    require_partner_user(actor)
    assert actor.partner_id is not None
    own = actor.partner_id
    period = trailing_year(today)
    query = MetricsQuery(as_of=today, period=period, filters=Filters(partner_ids=(own,)))
    figures = report(session, SYSTEM, config, query, ["pipeline", "attribution", "eql_funnel"]).figures
    pipeline = {
        row["classification"]: (int(row["open_opportunities"] or 0), float(row["pipeline"] or 0))
        for row in figures["pipeline"].to_pylist()
        if row["classification"] in PARTNER_CLASSES
    }
    credited = [
        row
        for row in _own(figures["attribution"].to_pylist(), own)
        if row["model"] == config.attribution_model
    ]
    funnel = (figures["eql_funnel"].to_pylist() or [{}])[0]
    referrals, sqls = int(funnel.get("eqls") or 0), int(funnel.get("sqls") or 0)
    return PortalFigures(
        partner_id=own,
        start=period.start,
        end=period.end,
        pipeline={name: pipeline.get(name, (0, 0.0)) for name in PARTNER_CLASSES},
        credited_model=config.attribution_model,
        credited_deals=sum(int(row["opportunities"] or 0) for row in credited),
        credited_revenue=round(sum(float(row["attributed_revenue"] or 0) for row in credited), 2),
        referrals=referrals,
        became_opportunities=sqls,
        won=int(funnel.get("won_opportunities") or 0),
        conversion=sqls / referrals if referrals else None,
        tiers=_tier_progress(session, config, today, own),
        tasks=_tasks(session, own),
    )


def _tier_progress(session: Session, config: Settings, today: date, partner_id: int) -> list[TierProgress]:
    """Per program: the next tier up and how far the partner's figures are from its criteria."""
    partner = session.scalar(
        select(Partner)
        .where(Partner.id == partner_id)
        .options(selectinload(Partner.memberships).selectinload(Membership.program))
    )
    assert partner is not None
    figures = TierFigures(session, SYSTEM, config, today)
    progress = []
    for membership in sorted(partner.memberships, key=lambda m: m.program.name):
        held: Tier | None = membership.tier
        ladder = sorted(membership.program.active_tiers, key=lambda t: (t.rank, t.id))
        above = [t for t in ladder if held is None or t.rank > held.rank]
        target = above[0] if above else None
        checked = figures.check(partner, target)["criteria"] if target is not None else []
        progress.append(
            TierProgress(
                program=membership.program.name,
                held=held.name if held else "",
                next_tier=target.name if target else "",
                criteria=[
                    Criterion(c["label"], c["value"], c["threshold"], METRICS[c["metric"]].money, c["met"])
                    for c in checked
                ],
            )
        )
    return progress


def _tasks(session: Session, partner_id: int) -> list[Task]:
    """What waits on the partner: our referrals to answer, approved partner-funds requests to claim."""
    asked = session.scalars(
        select(Referral)
        .where(
            Referral.partner_id == partner_id,
            Referral.direction == Direction.OUTBOUND.value,
            Referral.status == Status.SENT.value,
        )
        .order_by(Referral.id)
        .limit(20)
    )
    to_claim = session.scalars(
        select(FundRequest)
        .where(
            FundRequest.partner_id == partner_id,
            FundRequest.status == FundStatus.APPROVED.value,
            FundRequest.claim_status.in_(("", FundStatus.REJECTED.value)),
        )
        .order_by(FundRequest.id)
        .limit(20)
    )
    return [
        *(Task(f"Answer our referral of {r.company}", f"/portal/referrals/{r.id}") for r in asked),
        *(Task(f"Claim partner funds for {f.activity}", f"/portal/funds#request-{f.id}") for f in to_claim),
    ]
