"""A partner manager's home: what changed lately at the partners they manage, and what waits for their review.

"Their partners" are those whose owner is the signed-in user. Reviews waiting: open tier proposals,
proposed touches (influence logs and other touches to confirm or dispute) and inbound referrals and deal
registrations not decided yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from ecoops.actors import Actor
from ecoops.attribution.models import PartnerTouch
from ecoops.partners.models import Partner, PartnerChange, PartnerStageChange, ProposalStatus, TierProposal
from ecoops.permissions import Permission, require
from ecoops.referrals.models import Direction, Referral, Status

T = TypeVar("T")
RECENT = 20  # changes shown, newest first
WAITING = 20  # of each kind of review


@dataclass(frozen=True)
class Change:
    partner_id: int
    partner: str
    on: date
    what: str
    recorded_at: datetime


@dataclass(frozen=True)
class Review:
    partner_id: int
    partner: str
    what: str
    link: str


@dataclass(frozen=True)
class ManagerHome:
    partners: list[tuple[int, str]]  # the partners the user manages, by name
    changes: list[Change]
    tier_proposals: list[Review]
    touches: list[Review]
    referrals: list[Review]
    waiting: int  # how many reviews wait in all (each list shows at most WAITING)


def manager_home(session: Session, actor: Actor) -> ManagerHome:
    """The signed-in user's partners: their recent changes and what waits for review."""
    require(actor, Permission.READ_PROGRAM)
    mine = select(Partner.id).where(Partner.owner_id == actor.id)
    partners = [
        (i, n) for i, n in session.execute(select(Partner.id, Partner.name).where(Partner.id.in_(mine)))
    ]
    partners.sort(key=lambda p: p[1].lower())
    names = dict(partners)
    edits = session.execute(
        select(PartnerChange)
        .where(PartnerChange.partner_id.in_(mine))
        .order_by(PartnerChange.recorded_at.desc(), PartnerChange.id.desc())
        .limit(RECENT)
    ).scalars()
    moves = session.execute(
        select(PartnerStageChange)
        .where(PartnerStageChange.partner_id.in_(mine))
        .order_by(PartnerStageChange.recorded_at.desc(), PartnerStageChange.id.desc())
        .limit(RECENT)
    ).scalars()
    changes = [
        Change(c.partner_id, names[c.partner_id], c.changed_on, _edit_text(c), c.recorded_at) for c in edits
    ] + [
        Change(
            m.partner_id,
            names[m.partner_id],
            m.changed_on,
            f"stage {m.from_stage or 'none'} → {m.to_stage}",
            m.recorded_at,
        )
        for m in moves
    ]
    changes.sort(key=lambda c: (c.recorded_at, c.on), reverse=True)
    proposals, open_proposals = _waiting(
        session,
        select(TierProposal)
        .where(TierProposal.partner_id.in_(mine), TierProposal.status == ProposalStatus.OPEN.value)
        .order_by(TierProposal.id),
    )
    touches, proposed_touches = _waiting(
        session,
        select(PartnerTouch)
        .where(PartnerTouch.partner_id.in_(mine), PartnerTouch.status == "proposed")
        .order_by(PartnerTouch.touched_on, PartnerTouch.id),
    )
    referrals, submitted = _waiting(
        session,
        select(Referral)
        .where(
            Referral.partner_id.in_(mine),
            Referral.direction == Direction.INBOUND.value,
            Referral.status == Status.SUBMITTED.value,
        )
        .order_by(Referral.submitted_at, Referral.id),
    )
    waiting = open_proposals + proposed_touches + submitted
    return ManagerHome(
        partners=partners,
        changes=changes[:RECENT],
        tier_proposals=[
            Review(
                p.partner_id,
                names[p.partner_id],
                f"{p.direction} to {p.to_tier.name} (evaluated {p.as_of})",
                "/tier-review",
            )
            for p in proposals
        ],
        touches=[
            Review(
                t.partner_id,
                names[t.partner_id],
                f"{t.kind.replace('_', ' ')} on {t.opportunity_crm_id or t.account_crm_id} ({t.touched_on})",
                "/attribution/touches?status=proposed",
            )
            for t in touches
        ],
        referrals=[
            Review(
                r.partner_id,
                names[r.partner_id],
                f"{r.kind.replace('_', ' ')}: {r.company}",
                f"/referrals/{r.id}",
            )
            for r in referrals
        ],
        waiting=waiting,
    )


def _edit_text(change: PartnerChange) -> str:
    return f"{change.field}: {change.old_value or 'none'} → {change.new_value or 'none'}"


def _waiting(session: Session, query: Select[T]) -> tuple[list[Any], int]:
    """The first WAITING rows of `query`, and how many there are in all."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    return list(session.scalars(query.limit(WAITING))), total
