"""The QBR pack of one partner for one quarter: its figures, the overlaps it may see, its referrals and
its goals and the joint account plans with it, as a Document (a page and a PDF).

Staff with `read_metrics` open any partner's pack; a partner user opens only its own partner's, and any
other partner's answers "not found" as if it did not exist. The figures are the metrics engine's with
the partner filter set to that partner, and only its sourced and influenced rows are kept (the
pipeline's "direct" class is ours); the overlaps are those its sharing rules let it see
(mapping/sharing.py), the same for staff, so the pack shown in a meeting is the one the partner has.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.actors import SYSTEM, Actor, ActorKind
from ecoops.automation.digest.message import goal_line
from ecoops.config import Settings
from ecoops.enablement.models import PlanStatus
from ecoops.enablement.plans import list_plans, plan_accounts, plan_actions
from ecoops.engines.metrics import Filters, Period
from ecoops.goals.plan import lines
from ecoops.goals.service import period_start
from ecoops.mapping.models import SharingLevel
from ecoops.mapping.sharing import shared_view
from ecoops.metrics.service import MetricsQuery, report
from ecoops.partners.models import Partner
from ecoops.permissions import NotFound, Permission, require
from ecoops.referrals.models import Direction, Referral
from ecoops.reports.document import Document, Figure, Section, money

PARTNER_CLASSES = ("sourced", "influenced")


def quarter_of(day: date) -> Period:
    start = period_start("quarter", day)
    following = date(start.year + (start.month + 2) // 12, (start.month + 2) % 12 + 1, 1)
    return Period(start, following - timedelta(days=1))


def _partner(session: Session, actor: Actor, partner_id: int) -> Partner:
    if actor.kind == ActorKind.PARTNER_USER:
        if actor.partner_id != partner_id:
            raise NotFound(f"no partner {partner_id}")
    else:
        require(actor, Permission.READ_METRICS)
    partner = session.get(Partner, partner_id)
    if partner is None:
        raise NotFound(f"no partner {partner_id}")
    return partner


def _joint_plans(session: Session, actor: Actor, partner_id: int) -> Section:
    """The partner's joint account plans and their actions, as that partner's people see them."""
    plans = list_plans(session, actor, partner_id)
    actions = [(plan, action) for plan in plans for action in plan_actions(session, plan)]
    return Section(
        "Joint plans",
        [
            Figure("Plans", str(len(plans))),
            Figure("Accounts in them", str(sum(len(plan_accounts(session, actor, plan)) for plan in plans))),
            Figure(
                "Actions done", f"{sum(a.status == PlanStatus.DONE for _, a in actions)} of {len(actions)}"
            ),
        ],
        headers=("plan", "action", "owner", "due", "status"),
        rows=[
            (
                plan.title,
                a.title,
                a.owner,
                a.due_on.isoformat() if a.due_on else "",
                a.status.replace("_", " "),
            )
            for plan, a in actions
        ],
        note="Every plan with the partner and every action in it, whatever its date.",
    )


def qbr_pack(
    session: Session, actor: Actor, config: Settings, partner_id: int, quarter: Period, today: date
) -> Document:
    """The partner's QBR pack for `quarter`; figures as of its last day, or `today` while it runs."""
    partner = _partner(session, actor, partner_id)
    as_of = min(today, quarter.end)
    c = config.currency
    query = MetricsQuery(
        as_of=as_of, period=Period(quarter.start, as_of), filters=Filters(partner_ids=(partner_id,))
    )
    figures = report(session, SYSTEM, config, query, ["revenue", "pipeline"]).figures
    revenue = {
        r["classification"]: r
        for r in figures["revenue"].to_pylist()
        if r["classification"] in PARTNER_CLASSES
    }
    pipeline = {
        r["classification"]: r
        for r in figures["pipeline"].to_pylist()
        if r["classification"] in PARTNER_CLASSES
    }
    results = Section(
        "Results",
        [
            *(
                Figure(
                    f"{cls.capitalize()} revenue (won in the quarter)",
                    money(revenue.get(cls, {}).get("revenue") or 0, c),
                )
                for cls in PARTNER_CLASSES
            ),
            *(
                Figure(
                    f"{cls.capitalize()} open pipeline on {as_of.isoformat()}",
                    money(pipeline.get(cls, {}).get("pipeline") or 0, c),
                )
                for cls in PARTNER_CLASSES
            ),
        ],
    )
    start = datetime.combine(quarter.start, time.min, config.tz)
    end = datetime.combine(quarter.end + timedelta(days=1), time.min, config.tz)
    referrals = list(
        session.scalars(
            select(Referral)
            .where(
                Referral.partner_id == partner_id, Referral.submitted_at >= start, Referral.submitted_at < end
            )
            .order_by(Referral.submitted_at, Referral.id)
        )
    )
    received = [r for r in referrals if r.direction == Direction.INBOUND.value]
    referral_section = Section(
        "Referrals in the quarter",
        [
            Figure("Received from the partner", str(len(received))),
            Figure("Sent to the partner", str(len(referrals) - len(received))),
            Figure("Became an opportunity", str(sum(1 for r in referrals if r.opportunity_crm_id))),
        ],
        headers=("#", "company", "direction", "status", "submitted"),
        rows=[(str(r.id), r.company, r.direction, r.status, f"{r.submitted_at:%Y-%m-%d}") for r in referrals],
    )
    overlap_view = shared_view(session, actor if actor.kind == ActorKind.PARTNER_USER else SYSTEM, partner_id)
    overlaps = Section(
        "Overlaps with our accounts",
        headers=("our population", "your population", "accounts in both"),
        rows=[
            (shared.name, theirs or "(no label)", str(count))
            for shared in overlap_view
            if shared.level != SharingLevel.HIDDEN
            for theirs, count in shared.counts.items()
        ],
        note="The populations the partner's sharing rules show it, as of the latest mapping run.",
    )
    goals = Section(
        "Goals",
        headers=("goal: actual of target, pace",),
        rows=[
            (goal_line(line, c),) for line in lines(session, SYSTEM, config, [f"partner:{partner_id}"], as_of)
        ],
        note="Goals set for this partner whose month or quarter holds the pack's date.",
    )
    plan = _joint_plans(session, actor, partner_id)
    return Document(
        f"Quarterly business review: {partner.name}",
        f"{quarter.start.isoformat()} to {quarter.end.isoformat()}, figures as of {as_of.isoformat()}",
        [results, referral_section, overlaps, goals, plan],
    )
