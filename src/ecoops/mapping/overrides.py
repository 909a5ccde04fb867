"""Users' decisions on matches: confirm one, reject one, or add a pair by hand.

Decisions are kept by the two records' own ids (our crm_id, the partner's id), so they hold across
re-runs and new uploads; the next mapping run passes them to the engine.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor
from ecoops.audit import utcnow
from ecoops.crm.models import Account
from ecoops.mapping.models import Decision, MatchOverride, PartnerAccount
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
    return override


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
