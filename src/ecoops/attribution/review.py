"""Attribution review: touches proposed from data, confirmed or disputed by a partner manager with a reason.

Proposed touches are claims: the figures count only confirmed ones (docs/metrics.md). Storing the
proposals, and every decision on them, writes an audit row in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.actors import Actor
from ecoops.attribution.models import CrmPartnerField, PartnerTouch, TouchKind
from ecoops.attribution.rules import crm_source_status, partner_field_rule
from ecoops.audit import utcnow
from ecoops.crm.models import Opportunity
from ecoops.metrics.feed import CRM_SOURCE_EVIDENCE, crm_source_candidates
from ecoops.partners.models import Partner
from ecoops.permissions import NotFound, Permission, require

STATUSES = ("proposed", "confirmed", "disputed")


class Decision(StrEnum):
    CONFIRM = "confirm"
    DISPUTE = "dispute"


_OUTCOME = {Decision.CONFIRM: "confirmed", Decision.DISPUTE: "disputed"}


@dataclass(frozen=True)
class TouchRow:
    touch: PartnerTouch
    partner_name: str
    opportunity_name: str


def touches(
    session: Session, actor: Actor, status: str = "proposed", kind: str = "", limit: int = 500
) -> list[TouchRow]:
    """Stored touches with `status` (and `kind`, if given), oldest first, with the partner's and the
    opportunity's names."""
    require(actor, Permission.REVIEW_ATTRIBUTION)
    if status not in STATUSES:
        raise ValueError(f"status is one of {', '.join(STATUSES)}")
    statement = (
        select(PartnerTouch, Partner.name, func.coalesce(Opportunity.name, ""))
        .join(Partner, Partner.id == PartnerTouch.partner_id)
        .outerjoin(Opportunity, Opportunity.crm_id == PartnerTouch.opportunity_crm_id)
        .where(PartnerTouch.status == status)
        .order_by(PartnerTouch.touched_on, PartnerTouch.id)
        .limit(limit)
    )
    if kind:
        statement = statement.where(PartnerTouch.kind == kind)
    return [TouchRow(t, p, o) for t, p, o in session.execute(statement)]


def unproposed_count(session: Session, actor: Actor) -> int:
    """How many crm_source touches the partner-source field implies that are not stored for review yet."""
    require(actor, Permission.REVIEW_ATTRIBUTION)
    return session.scalar(select(func.count()).select_from(crm_source_candidates().subquery())) or 0


def partner_field_effect(session: Session) -> tuple[CrmPartnerField, int]:
    """The CRM-partner-field rule in force, and how many deals it decides: those whose partner field
    names a partner with no crm_source touch of it stored (reviewed or not) yet. For importers' results."""
    candidates = crm_source_candidates().subquery()
    deals = session.scalar(select(func.count(func.distinct(candidates.c.opportunity_id)))) or 0
    return partner_field_rule(session), deals


def partner_field_sentence(rule: str, deals: int) -> str:
    """What the rule does to those deals, in words, for the import's result."""
    named = f"{deals:,} deal{'' if deals == 1 else 's'} whose CRM partner field names a partner"
    if rule == CrmPartnerField.RECORD:
        return f"{named}: counted as that partner's at once (the field is the system of record; disputable)."
    return f"{named}: waiting for review on /attribution/touches (until confirmed they count as direct)."


def propose_from_data(session: Session, actor: Actor) -> int:
    """Store every crm_source touch the partner-source field implies (proposed, or confirmed when the
    field is the system of record: a reviewer may still dispute it); returns how many."""
    require(actor, Permission.REVIEW_ATTRIBUTION)
    rows = session.execute(crm_source_candidates()).all()
    status = crm_source_status(session)
    for _opportunity_id, crm_id, account_crm_id, partner_id, created_on in rows:
        session.add(
            PartnerTouch(
                partner_id=partner_id,
                opportunity_crm_id=crm_id,
                account_crm_id=account_crm_id,
                kind=TouchKind.CRM_SOURCE.value,
                touched_on=created_on,
                evidence_type=CRM_SOURCE_EVIDENCE[0],
                evidence_ref=CRM_SOURCE_EVIDENCE[1],
                status=status,
                recorded_by=actor.label,
            )
        )
    session.flush()
    if rows:
        audit.record(
            session, actor, "touches.proposed", "partner_touch", None, kind="crm_source", count=len(rows)
        )
    return len(rows)


def review_touch(
    session: Session, actor: Actor, touch_id: int, decision: Decision, reason: str
) -> PartnerTouch:
    """Confirm (it counts from now on) or dispute (it never counts) a touch; the reason is required."""
    return review_touches(session, actor, [touch_id], decision, reason)[0]


def review_touches(
    session: Session, actor: Actor, touch_ids: list[int], decision: Decision, reason: str
) -> list[PartnerTouch]:
    """One decision, with one reason, on several touches (e.g. a partner's overlap touches); all or none."""
    require(actor, Permission.REVIEW_ATTRIBUTION)
    if not reason.strip():
        raise ValueError("give a reason: it is kept with the decision")
    if not touch_ids:
        raise ValueError("choose at least one touch")
    found = {t.id: t for t in session.scalars(select(PartnerTouch).where(PartnerTouch.id.in_(touch_ids)))}
    missing = sorted(set(touch_ids) - found.keys())
    if missing:
        raise NotFound(f"no touch {missing[0]}")
    reviewed_at = utcnow()
    for touch_id in dict.fromkeys(touch_ids):
        touch = found[touch_id]
        before = touch.status
        touch.status = _OUTCOME[decision]
        touch.reviewed_by = actor.label
        touch.reviewed_at = reviewed_at
        touch.review_reason = reason.strip()
        audit.record(
            session,
            actor,
            f"touch.{touch.status}",
            "partner_touch",
            touch.id,
            before=before,
            reason=touch.review_reason,
            partner_id=touch.partner_id,
            opportunity_crm_id=touch.opportunity_crm_id,
            kind=touch.kind,
        )
    session.flush()
    return [found[i] for i in dict.fromkeys(touch_ids)]
