"""Tier review: evaluate partners against their program's tier criteria, propose moves, decide them.

The evaluation (on demand, or daily in the worker) finds, for each signed-to-producing partner in a
program, the highest-ranked tier whose criteria it meets, and proposes the move when that is not the
tier it holds. A partner manager approves (the tier changes through partner editing: a dated history
line and an audit event) or dismisses. Details and rules: docs/program.md "Tier review".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from ecoops import audit
from ecoops.accounts.service import InvalidInput
from ecoops.actors import SYSTEM, Actor
from ecoops.audit import utcnow
from ecoops.automation.scanner import ScanMark
from ecoops.config import Settings
from ecoops.events import EventKind, emit
from ecoops.pagination import Page, paginate
from ecoops.partners.editing import PartnerEdit, locked_partner, update_partner
from ecoops.partners.models import Membership, Partner, Program, ProposalStatus, Stage, Tier, TierProposal
from ecoops.partners.tier_figures import TierFigures
from ecoops.permissions import NotFound, Permission, require

# Partners in a program and not gone: prospects and recruits hold no tier yet, churned ones keep theirs.
EVALUATED_STAGES = (Stage.SIGNED, Stage.ONBOARDING, Stage.ACTIVE, Stage.PRODUCING)
# A dismissed move is not proposed again for this long, unless the partner's tier changes meanwhile.
DISMISSED_QUIET_DAYS = 90
MAX_NOTE = 2000


@dataclass(frozen=True)
class Evaluation:
    as_of: date
    evaluated: int  # partner memberships looked at
    proposed: list[TierProposal]  # new proposals (an unchanged open one is refreshed, not counted)


def _ladder(program: Program) -> tuple[Tier, list[Tier]] | None:
    """The entry tier (the floor: no partner is proposed out of the program) and the tiers with criteria."""
    tiers = sorted(program.active_tiers, key=lambda t: (t.rank, t.id))
    ranked = [t for t in tiers if t.criteria]
    return (tiers[0], ranked) if tiers and ranked else None


def _target(figures: TierFigures, partner: Partner, floor: Tier, ranked: list[Tier]) -> Tier:
    for tier in reversed(ranked):
        if figures.check(partner, tier)["met"]:
            return tier
    return floor


def _close(session: Session, proposal: TierProposal, note: str) -> None:
    """Mark an open proposal stale; a no-op if a reviewer decided it meanwhile (hence the WHERE)."""
    session.execute(
        update(TierProposal)
        .where(TierProposal.id == proposal.id, TierProposal.status == ProposalStatus.OPEN.value)
        .values(status=ProposalStatus.STALE.value, note=note, decided_at=utcnow(), decided_by="evaluation")
        .execution_options(synchronize_session=False)
    )


def _recently_dismissed(session: Session, membership: Membership, target: Tier, as_of: date) -> bool:
    since = datetime.combine(as_of - timedelta(days=DISMISSED_QUIET_DAYS), datetime.min.time())
    return (
        session.scalar(
            select(TierProposal.id).where(
                TierProposal.partner_id == membership.partner_id,
                TierProposal.program_id == membership.program_id,
                TierProposal.from_tier_id == membership.tier_id,
                TierProposal.to_tier_id == target.id,
                TierProposal.status == ProposalStatus.DISMISSED.value,
                TierProposal.decided_at >= since,
            )
        )
        is not None
    )


def _propose(
    session: Session,
    actor: Actor,
    membership: Membership,
    partner: Partner,
    target: Tier,
    figures: list[dict[str, Any]],
    as_of: date,
) -> TierProposal | None:
    current = membership.tier
    proposal = TierProposal(
        partner_id=partner.id,
        program_id=membership.program_id,
        from_tier_id=membership.tier_id,
        to_tier_id=target.id,
        direction="upgrade" if current is None or target.rank > current.rank else "downgrade",
        as_of=as_of,
        figures=figures,
        created_by=actor.label,
    )
    try:
        with session.begin_nested():  # another evaluation at the same moment may have added it
            session.add(proposal)
    except IntegrityError:
        return None
    emit(
        session,
        EventKind.TIER_CHANGE_PROPOSED,
        partner_id=partner.id,
        partner_name=partner.name,
        program_name=membership.program.name,
        from_tier=current.name if current else "",
        to_tier=target.name,
        direction=proposal.direction,
        as_of=as_of.isoformat(),
        proposal_id=proposal.id,
        link="/tier-review",
    )
    return proposal


def evaluate(session: Session, actor: Actor, config: Settings, as_of: date) -> Evaluation:
    """Propose a tier move for every evaluated partner whose criteria put it elsewhere on `as_of`."""
    require(actor, Permission.EDIT_PROGRAM)
    programs = session.scalars(
        select(Program)
        .where(Program.retired_on.is_(None))
        .options(selectinload(Program.tiers).selectinload(Tier.criteria))
    ).all()
    ladders = {p.id: ladder for p in programs if (ladder := _ladder(p))}
    memberships = (
        session.scalars(
            select(Membership)
            .join(Partner, Partner.id == Membership.partner_id)
            .where(
                Membership.program_id.in_(ladders),
                Partner.stage.in_([s.value for s in EVALUATED_STAGES]),
            )
            .order_by(Membership.partner_id, Membership.program_id)
        ).all()
        if ladders
        else []
    )
    open_ones = {
        (p.partner_id, p.program_id): p
        for p in session.scalars(select(TierProposal).where(TierProposal.status == ProposalStatus.OPEN.value))
    }
    partners = {
        p.id: p
        for p in session.scalars(select(Partner).where(Partner.id.in_({m.partner_id for m in memberships})))
    }
    figures = TierFigures(session, actor, config, as_of)
    proposed: list[TierProposal] = []
    evaluated = 0
    for membership in memberships:
        floor, ranked = ladders[membership.program_id]
        current = membership.tier
        # A partner placed by hand in a tier without criteria (say "Strategic") is left where it is.
        if current is not None and not current.criteria and current.id != floor.id:
            continue
        evaluated += 1
        partner = partners[membership.partner_id]
        target = _target(figures, partner, floor, ranked)
        existing = open_ones.get((partner.id, membership.program_id))
        if current is not None and target.rank == current.rank:
            if existing is not None:
                _close(session, existing, f"the evaluation of {as_of} keeps {partner.name} in {current.name}")
            continue
        shown = [figures.check(partner, t) for t in dict.fromkeys((current, target)) if t and t.criteria]
        if existing is not None:
            if (existing.from_tier_id, existing.to_tier_id) == (membership.tier_id, target.id):
                session.execute(  # the same move: refreshed with today's figures, not repeated
                    update(TierProposal)
                    .where(TierProposal.id == existing.id, TierProposal.status == ProposalStatus.OPEN.value)
                    .values(figures=shown, as_of=as_of)
                    .execution_options(synchronize_session=False)
                )
                continue
            _close(session, existing, f"the evaluation of {as_of} proposes {target.name} instead")
            session.flush()
        if _recently_dismissed(session, membership, target, as_of):
            continue
        if (proposal := _propose(session, actor, membership, partner, target, shown, as_of)) is not None:
            proposed.append(proposal)
    audit.record(
        session,
        actor,
        "tier.evaluated",
        "tier_evaluation",
        as_of.isoformat(),
        evaluated=evaluated,
        proposed=[p.id for p in proposed],
    )
    return Evaluation(as_of, evaluated, proposed)


def evaluate_daily(session: Session, settings: Settings, now: datetime) -> int:
    """The worker's tick job: the first tick of each workspace day evaluates as of that day."""
    today = now.astimezone(settings.tz).date()
    key = f"ran:tiers:{today.isoformat()}"
    if session.scalar(select(ScanMark.id).where(ScanMark.key == key)) is not None:
        return 0
    session.add(ScanMark(key=key))  # its unique key lets one worker of several run the day's evaluation
    session.flush()
    return len(evaluate(session, SYSTEM, settings, today).proposed)


def list_proposals(
    session: Session,
    actor: Actor,
    *,
    status: str = ProposalStatus.OPEN.value,
    page: int = 1,
    per_page: int = 25,
) -> Page[TierProposal]:
    require(actor, Permission.EDIT_PROGRAM)
    if status not in set(ProposalStatus):
        raise InvalidInput(f"status: one of {', '.join(ProposalStatus)}, not {status!r}")
    statement = (
        select(TierProposal)
        .join(Partner, Partner.id == TierProposal.partner_id)
        .where(TierProposal.status == status)
        .options(
            selectinload(TierProposal.partner),
            selectinload(TierProposal.program),
            selectinload(TierProposal.from_tier),
            selectinload(TierProposal.to_tier),
        )
        .order_by(TierProposal.created_at.desc(), TierProposal.id.desc())
    )
    return paginate(session, statement, page=page, per_page=per_page)


def _open_proposal(session: Session, actor: Actor, proposal_id: int) -> TierProposal:
    """The proposal, its row locked (PostgreSQL; SQLite writers are serialised anyway) and re-read."""
    require(actor, Permission.EDIT_PROGRAM)
    proposal = session.scalar(
        select(TierProposal)
        .where(TierProposal.id == proposal_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if proposal is None:
        raise NotFound(f"no tier proposal {proposal_id}")
    if proposal.status != ProposalStatus.OPEN.value:
        who = f" by {proposal.decided_by}" if proposal.decided_by else ""
        raise InvalidInput(f"tier proposal #{proposal.id} is already {proposal.status}{who}")
    return proposal


def _note(note: str) -> str:
    if len(note.strip()) > MAX_NOTE:
        raise InvalidInput(f"note: at most {MAX_NOTE} characters")
    return note.strip()


def approve(session: Session, actor: Actor, proposal_id: int, *, today: date, note: str = "") -> TierProposal:
    """Apply the move as of `today`; a proposal whose partner changed tier meanwhile turns stale instead.

    The caller tells the two apart by the returned status (approved or stale); a stale one's note says
    what changed, and is kept (it is committed with the request).
    """
    proposal = _open_proposal(session, actor, proposal_id)
    note = _note(note)
    partner = locked_partner(session, actor, proposal.partner_id)
    held = {m.program_id: m.tier_id for m in partner.memberships}
    if proposal.program_id not in held or held[proposal.program_id] != proposal.from_tier_id:
        now_held = session.get(Tier, held[proposal.program_id] or 0) if proposal.program_id in held else None
        was = proposal.from_tier.name if proposal.from_tier else "no tier"
        proposal.status, proposal.decided_at, proposal.decided_by = (
            ProposalStatus.STALE,
            utcnow(),
            actor.label,
        )
        proposal.note = (
            f"not applied: {partner.name} is now "
            + (f"in {now_held.name}" if now_held else f"out of {proposal.program.name} or in no tier")
            + f", no longer in {was} as when evaluated; evaluate again"
        )
        session.flush()
        audit.record(session, actor, "tier_proposal.stale", "tier_proposal", proposal.id, note=proposal.note)
        return proposal
    held[proposal.program_id] = proposal.to_tier_id
    update_partner(
        session,
        actor,
        partner.id,
        PartnerEdit(tier_ids=[t for t in held.values() if t is not None]),
        on=today,
        today=today,
    )
    proposal.status, proposal.decided_at, proposal.decided_by = ProposalStatus.APPROVED, utcnow(), actor.label
    proposal.note = note
    session.flush()
    audit.record(
        session,
        actor,
        "tier_proposal.approved",
        "tier_proposal",
        proposal.id,
        partner_id=partner.id,
        to_tier=proposal.to_tier.name,
        note=note,
    )
    return proposal


def dismiss(session: Session, actor: Actor, proposal_id: int, *, note: str = "") -> TierProposal:
    proposal = _open_proposal(session, actor, proposal_id)
    proposal.note = _note(note)
    proposal.status, proposal.decided_at, proposal.decided_by = (
        ProposalStatus.DISMISSED,
        utcnow(),
        actor.label,
    )
    session.flush()
    audit.record(session, actor, "tier_proposal.dismissed", "tier_proposal", proposal.id, note=proposal.note)
    return proposal


def tier_progress(
    session: Session, actor: Actor, config: Settings, partner: Partner, as_of: date
) -> list[dict[str, Any]]:
    """For the partner page: per program, the held tier's criteria and the next tier's, with figures."""
    require(actor, Permission.READ_METRICS)
    figures = TierFigures(session, actor, config, as_of)
    rows = []
    for membership in partner.memberships:
        current = membership.tier
        above = [
            t
            for t in membership.program.active_tiers
            if t.criteria and (current is None or t.rank > current.rank)
        ]
        checks = [figures.check(partner, t) for t in ([current] if current and current.criteria else [])]
        if above:
            checks.append(figures.check(partner, min(above, key=lambda t: (t.rank, t.id))) | {"next": True})
        rows.append(
            {"program": membership.program.name, "tier": current.name if current else "", "checks": checks}
        )
    return rows
