"""Users' decisions on matches: confirm one, reject one, or add a pair by hand.

Decisions are kept by the two records' own ids (our crm_id, the partner's id), so they hold across
re-runs and new uploads; the next mapping run passes them to the engine.

Rejecting a match says the two records were never one company, so the overlap it made never was:
its open overlap period is removed (not ended: an ended period would still say the account overlapped
until today, and would keep yielding `overlap` touches for other deals open in that window), and the
`overlap` touches dated from that period are marked disputed with the rejection as the reason, as a
partner manager's dispute would (attribution/review.py): disputed touches never count, and the claim
and the decision on it stay on record. Not when the account still overlaps the same population
through another of the partner's records: then the period stands on that match.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor
from ecoops.attribution.models import PartnerTouch, TouchKind
from ecoops.audit import utcnow
from ecoops.crm.models import Account
from ecoops.mapping.models import Decision, Match, MatchOverride, OverlapPeriod, PartnerAccount
from ecoops.mapping.overlap_events import emit_overlap_events
from ecoops.mapping.runs import OVERLAP_EVIDENCE
from ecoops.mapping.uploads import current_upload
from ecoops.permissions import Permission, require


def decide(
    session: Session,
    actor: Actor,
    partner_id: int,
    *,
    our_crm_id: str,
    their_id: str,
    decision: Decision,
    reason: str = "",
) -> MatchOverride:
    """Record (or change) the decision on one pair; both records must exist."""
    require(actor, Permission.MANAGE_MAPPING)
    if session.scalar(select(Account.id).where(Account.crm_id == our_crm_id)) is None:
        raise InvalidInput(f"we have no account {our_crm_id!r}")
    upload = current_upload(session, partner_id)
    listed = upload is not None and session.scalar(
        select(PartnerAccount.id).where(
            PartnerAccount.upload_id == upload.id, PartnerAccount.their_id == their_id
        )
    )
    if not listed:
        raise InvalidInput(f"the partner's current list has no account {their_id!r}")
    override = session.scalar(
        select(MatchOverride).where(
            MatchOverride.partner_id == partner_id,
            MatchOverride.our_crm_id == our_crm_id,
            MatchOverride.their_id == their_id,
        )
    )
    if override is None:
        override = MatchOverride(partner_id=partner_id, our_crm_id=our_crm_id, their_id=their_id)
        session.add(override)
    override.decision = decision.value
    override.reason = reason.strip()
    override.decided_by = actor.label
    override.decided_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor,
        f"mapping.match_{decision.value}",
        "partner",
        partner_id,
        our_crm_id=our_crm_id,
        their_id=their_id,
        reason=override.reason,
    )
    if decision == Decision.REJECTED:
        _withdraw_overlap(session, actor, partner_id, our_crm_id, their_id, override.reason)
    return override


def _withdraw_overlap(
    session: Session, actor: Actor, partner_id: int, our_crm_id: str, their_id: str, reason: str
) -> None:
    """Remove the open overlap period the rejected match made, and dispute the touches dated from it."""
    match = session.scalar(
        select(Match).where(
            Match.partner_id == partner_id, Match.our_crm_id == our_crm_id, Match.their_id == their_id
        )
    )
    upload = current_upload(session, partner_id)
    if match is None or upload is None or match.explanation.get("relation") != "same":
        return  # never matched, or a hierarchy pair: no overlap came of it
    populations = dict(
        session.execute(
            select(PartnerAccount.their_id, PartnerAccount.population).where(
                PartnerAccount.upload_id == upload.id
            )
        ).all()
    )
    population = populations.get(their_id, "")
    others = session.scalars(
        select(Match).where(
            Match.partner_id == partner_id, Match.our_crm_id == our_crm_id, Match.their_id != their_id
        )
    )
    if any(
        m.explanation.get("relation") == "same" and populations.get(m.their_id, "") == population
        for m in others
    ):
        return
    periods = session.scalars(
        select(OverlapPeriod).where(
            OverlapPeriod.partner_id == partner_id,
            OverlapPeriod.account_crm_id == our_crm_id,
            OverlapPeriod.their_population == population,
            OverlapPeriod.ended_on.is_(None),
        )
    ).all()
    why = f"match {our_crm_id} ~ {their_id} rejected" + (f": {reason}" if reason else "")
    for period in periods:
        touches = session.scalars(
            select(PartnerTouch).where(
                PartnerTouch.partner_id == partner_id,
                PartnerTouch.kind == TouchKind.OVERLAP.value,
                PartnerTouch.evidence_type == OVERLAP_EVIDENCE,
                PartnerTouch.evidence_ref == str(period.id),
                PartnerTouch.status != "disputed",
            )
        ).all()
        for touch in touches:
            before, touch.status = touch.status, "disputed"
            touch.reviewed_by, touch.reviewed_at, touch.review_reason = actor.label, utcnow(), why
            audit.record(
                session,
                actor,
                "touch.disputed",
                "partner_touch",
                touch.id,
                before=before,
                reason=why,
                partner_id=partner_id,
                opportunity_crm_id=touch.opportunity_crm_id,
                kind=touch.kind,
            )
        audit.record(
            session,
            actor,
            "mapping.overlap_withdrawn",
            "partner",
            partner_id,
            account_crm_id=our_crm_id,
            their_population=population,
            began_on=period.began_on.isoformat(),
            disputed_touches=[t.id for t in touches],
        )
        session.delete(period)
    session.flush()
    if periods:  # sellers and partner managers told of the overlap hear that it is gone
        emit_overlap_events(session, partner_id, began=[], ended=[(our_crm_id, population)])


def overrides(session: Session, actor: Actor, partner_id: int) -> list[MatchOverride]:
    """The partner's decisions, newest first."""
    require(actor, Permission.READ_MAPPING)
    return list(
        session.scalars(
            select(MatchOverride)
            .where(MatchOverride.partner_id == partner_id)
            .order_by(MatchOverride.decided_at.desc(), MatchOverride.id.desc())
        )
    )
