"""Reading referrals: the filtered inbox (with SLA breaches) and the names a list shows beside them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecoops.accounts.service import names_by_email
from ecoops.actors import Actor
from ecoops.attribution.models import PartnerTouch
from ecoops.audit import utcnow
from ecoops.pagination import Page, paginate
from ecoops.partners.models import Partner
from ecoops.referrals.access import readable_referrals
from ecoops.referrals.models import Direction, Referral, Status


@dataclass(frozen=True)
class ReferralFilters:
    """The inbox's filters; empty fields filter nothing."""

    direction: str = ""
    status: str = ""
    kind: str = ""
    partner_id: int | None = None
    mine: bool = False  # handed to the signed-in seller
    overdue: bool = False  # waiting for review, or for the partner's answer, past its SLA


def as_utc(moment: datetime) -> datetime:
    """Every datetime we store is UTC; SQLite hands them back naive."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# Waiting for our review (inbound) or for the partner's answer (outbound).
WAITING = (Status.SUBMITTED, Status.SENT)


def is_overdue(referral: Referral, now: datetime | None = None) -> bool:
    """Waiting beyond its SLA."""
    if referral.status not in WAITING or referral.sla_due_at is None:
        return False
    return as_utc(referral.sla_due_at) < (now or utcnow())


def search_referrals(
    session: Session, actor: Actor, filters: ReferralFilters, *, page: int = 1, per_page: int = 50
) -> Page[Referral]:
    statement = readable_referrals(actor)
    if filters.direction:
        statement = statement.where(Referral.direction == filters.direction)
    if filters.status:
        statement = statement.where(Referral.status == filters.status)
    if filters.kind:
        statement = statement.where(Referral.kind == filters.kind)
    if filters.partner_id is not None:
        statement = statement.where(Referral.partner_id == filters.partner_id)
    if filters.mine:
        statement = statement.where(Referral.assigned_seller_id == actor.id)
    if filters.overdue:
        statement = statement.where(Referral.status.in_(WAITING), Referral.sla_due_at < utcnow())
    statement = statement.order_by(Referral.submitted_at.desc(), Referral.id.desc())
    return paginate(session, statement, page=page, per_page=per_page)


def signers(session: Session, referral: Referral) -> dict[str, str]:
    """Names of the people its submission and history record by e-mail: the pages show names."""
    return names_by_email(session, {referral.submitted_by, *(h.changed_by for h in referral.history)})


def touches_of(session: Session, referral: Referral) -> list[PartnerTouch]:
    """The partner touches the referral is the evidence of (an approval's, an accepted co-sell's)."""
    statement = select(PartnerTouch).where(
        PartnerTouch.evidence_type == "referral", PartnerTouch.evidence_ref == str(referral.id)
    )
    return list(session.scalars(statement.order_by(PartnerTouch.id)))


def partner_names(session: Session, referrals: list[Referral]) -> dict[int, str]:
    ids = {r.partner_id for r in referrals}
    return {
        id_: name
        for id_, name in session.execute(select(Partner.id, Partner.name).where(Partner.id.in_(ids)))
    }


@dataclass(frozen=True)
class GiveAndGet:
    """Referrals exchanged with one partner (METRICS.md "give and get"): sent us, and sent it."""

    received: int  # inbound, from the partner
    received_approved: int
    sent: int  # outbound, to the partner
    sent_accepted: int


def give_and_get(session: Session, actor: Actor, partner_id: int) -> GiveAndGet:
    statement = (
        readable_referrals(actor)
        .where(Referral.partner_id == partner_id)
        .with_only_columns(Referral.direction, Referral.status, func.count())
        .group_by(Referral.direction, Referral.status)
    )
    counts = {(direction, status): n for direction, status, n in session.execute(statement)}

    def total(direction: Direction, *statuses: Status) -> int:
        return sum(n for (d, s), n in counts.items() if d == direction and (not statuses or s in statuses))

    return GiveAndGet(
        received=total(Direction.INBOUND),
        received_approved=total(Direction.INBOUND, Status.APPROVED),
        sent=total(Direction.OUTBOUND),
        sent_accepted=total(Direction.OUTBOUND, Status.ACCEPTED),
    )
