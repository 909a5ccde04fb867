"""What goes into each account executive's digest, and in which order.

An account executive is an active user who owns accounts: `Account.owner` (free text from the CRM)
matched to a user's e-mail, or else to a user's name when exactly one user has it (case-insensitive).

Overlaps are ranked by, in order:
1. the partner's customer population first: the partner lists the account among its customers
   (a population label with the word "customer", not "non-customer" or "former customer"), since a
   partner's customer is the warmest introduction;
2. then the account's open opportunity amount, largest first;
3. then recency: the overlap that began most recently first (unknown start last);
then by account and partner name, so equal ones keep a stable order. Churned partners are left out.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from ecoops.accounts.models import User
from ecoops.crm.models import Account, Opportunity
from ecoops.goals.plan import GoalLine
from ecoops.mapping.models import Match, OverlapPeriod, PartnerAccount, PartnerUpload
from ecoops.partners.models import Partner, Stage
from ecoops.referrals.models import Direction, Referral, Status

TOP_OVERLAPS = 10
TOP_REFERRALS = 20
_CUSTOMER = re.compile(r"\bcustomers?\b")
_NOT_CUSTOMER = re.compile(r"\b(non|not|no|ex|former|lost|churned)[\s-]*customers?\b")


def is_customer_population(label: str) -> bool:
    label = label.lower()
    return bool(_CUSTOMER.search(label)) and not _NOT_CUSTOMER.search(label)


@dataclass(frozen=True)
class OverlapPick:
    account_id: int
    account_crm_id: str
    account_name: str
    partner_id: int
    partner_name: str
    their_population: str
    is_customer: bool
    open_amount: Decimal
    since: date | None

    def rank(self) -> tuple[int, Decimal, int, str, str]:
        recency = -self.since.toordinal() if self.since else 0
        return (
            0 if self.is_customer else 1,
            -self.open_amount,
            recency,
            self.account_name.lower(),
            self.partner_name.lower(),
        )


@dataclass(frozen=True)
class ReferralPick:
    referral_id: int
    company: str
    partner_name: str
    direction: str
    kind: str
    status: str
    submitted_at: datetime


@dataclass
class Digest:
    user: User
    overlaps: list[OverlapPick] = field(default_factory=list)
    referrals: list[ReferralPick] = field(default_factory=list)
    goals: list[GoalLine] = field(default_factory=list)  # added by digest/goals.py


def account_executives(session: Session) -> dict[str, User]:
    """Each `Account.owner` value that names an active user, to that user."""
    users = session.scalars(select(User).where(User.is_active).order_by(User.id)).all()
    by_email = {user.email.lower(): user for user in users}
    by_name: dict[str, list[User]] = defaultdict(list)
    for user in users:
        by_name[user.name.strip().lower()].append(user)
    owners = session.scalars(select(Account.owner).where(Account.owner != "").distinct()).all()
    found: dict[str, User] = {}
    for owner in owners:
        key = owner.strip().lower()
        named = by_name.get(key, [])
        match = by_email.get(key) or (named[0] if len(named) == 1 else None)
        if match is not None:
            found[owner] = match
    return found


def build_digests(session: Session, today: date) -> list[Digest]:
    """Every account executive's digest with something in it, by user id."""
    owners = account_executives(session)
    digests = {user.id: Digest(user) for user in owners.values()}
    if not digests:
        return []
    names_of: dict[int, list[str]] = defaultdict(list)
    for owner, user in owners.items():
        names_of[user.id].append(owner)
    overlaps = _overlaps(session, list(owners))
    for pick_owner, picks in overlaps.items():
        digests[owners[pick_owner].id].overlaps.extend(picks)
    for digest in digests.values():
        digest.overlaps = sorted(digest.overlaps, key=OverlapPick.rank)[:TOP_OVERLAPS]
        digest.referrals = _open_referrals(session, digest.user, names_of[digest.user.id], today)
    return [d for _, d in sorted(digests.items()) if d.overlaps or d.referrals]


def _overlaps(session: Session, owners: list[str]) -> dict[str, list[OverlapPick]]:
    """Owner → one pick per (account, partner): the partner's best-ranked listing of the account."""
    theirs = (
        select(
            Account.id,
            Account.crm_id,
            Account.name,
            Account.owner,
            Partner.id.label("partner_id"),
            Partner.name.label("partner_name"),
            PartnerAccount.population,
            Match.explanation,
        )
        .join(Match, Match.our_crm_id == Account.crm_id)
        .join(Partner, Partner.id == Match.partner_id)
        .join(PartnerUpload, and_(PartnerUpload.partner_id == Match.partner_id, PartnerUpload.is_current))
        .join(
            PartnerAccount,
            and_(PartnerAccount.upload_id == PartnerUpload.id, PartnerAccount.their_id == Match.their_id),
        )
        .where(Account.owner.in_(owners), Partner.stage != Stage.CHURNED.value)
    )
    rows = [row for row in session.execute(theirs) if row.explanation.get("relation", "same") == "same"]
    owned = select(Account.crm_id).where(Account.owner.in_(owners)).scalar_subquery()
    pipeline = {
        crm_id: Decimal(amount or 0)
        for crm_id, amount in session.execute(
            select(Opportunity.account_crm_id, func.sum(Opportunity.amount))
            .where(Opportunity.account_crm_id.in_(owned), Opportunity.is_closed.is_(False))
            .group_by(Opportunity.account_crm_id)
        )
    }
    since = {
        (partner_id, crm_id, population): began
        for partner_id, crm_id, population, began in session.execute(
            select(
                OverlapPeriod.partner_id,
                OverlapPeriod.account_crm_id,
                OverlapPeriod.their_population,
                OverlapPeriod.began_on,
            ).where(OverlapPeriod.account_crm_id.in_(owned), OverlapPeriod.ended_on.is_(None))
        )
    }
    best: dict[tuple[int, int], tuple[str, OverlapPick]] = {}
    for row in rows:
        pick = OverlapPick(
            account_id=row.id,
            account_crm_id=row.crm_id,
            account_name=row.name,
            partner_id=row.partner_id,
            partner_name=row.partner_name,
            their_population=row.population,
            is_customer=is_customer_population(row.population),
            open_amount=pipeline.get(row.crm_id, Decimal(0)),
            since=since.get((row.partner_id, row.crm_id, row.population)),
        )
        key = (row.id, row.partner_id)
        if key not in best or pick.rank() < best[key][1].rank():
            best[key] = (row.owner, pick)
    by_owner: dict[str, list[OverlapPick]] = defaultdict(list)
    for owner, pick in best.values():
        by_owner[owner].append(pick)
    return by_owner


def _open_referrals(session: Session, user: User, owner_names: list[str], today: date) -> list[ReferralPick]:
    """Referrals handed to the user, sent by the user or about the user's accounts, still waiting.

    Open: inbound and waiting for review; inbound, approved, its registration not expired and its
    opportunity (if linked) not closed; outbound and waiting for the partner's answer.
    """
    owned = select(Account.crm_id).where(Account.owner.in_(owner_names)).scalar_subquery()
    closed = select(Opportunity.crm_id).where(Opportunity.is_closed.is_(True)).scalar_subquery()
    still_open = or_(
        and_(Referral.direction == Direction.INBOUND, Referral.status == Status.SUBMITTED),
        and_(
            Referral.direction == Direction.INBOUND,
            Referral.status == Status.APPROVED,
            or_(Referral.registration_expires_on.is_(None), Referral.registration_expires_on >= today),
            or_(Referral.opportunity_crm_id == "", Referral.opportunity_crm_id.not_in(closed)),
        ),
        and_(Referral.direction == Direction.OUTBOUND, Referral.status == Status.SENT),
    )
    rows = session.execute(
        select(Referral, Partner.name)
        .join(Partner, Partner.id == Referral.partner_id)
        .where(
            or_(
                Referral.assigned_seller_id == user.id,
                and_(Referral.direction == Direction.OUTBOUND, Referral.submitted_by == user.email),
                and_(Referral.account_crm_id != "", Referral.account_crm_id.in_(owned)),
            ),
            still_open,
        )
        .order_by(Referral.submitted_at.desc(), Referral.id.desc())
        .limit(TOP_REFERRALS)
    ).all()
    return [
        ReferralPick(r.id, r.company, partner, r.direction, r.kind, r.status, r.submitted_at)
        for r, partner in rows
    ]
