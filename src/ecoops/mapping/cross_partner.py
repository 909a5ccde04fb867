"""Views across partners: our accounts that the most partners also have, and each account executive's
co-sell list (their accounts with an open opportunity that partners share, and with whom)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecoops.actors import Actor
from ecoops.crm.models import Account, Opportunity
from ecoops.mapping.models import Match, PartnerAccount, PartnerUpload
from ecoops.partners.models import Partner
from ecoops.permissions import Permission, require


@dataclass(frozen=True)
class SharedAccount:
    account_id: int  # for the link to its page
    crm_id: str
    name: str
    owner: str
    open_opportunities: int
    open_amount: Decimal
    partners: list[tuple[str, str]]  # (partner name, their population), by partner name
    partner_ids: dict[str, int]  # partner name → id, by partner name: whom to ask for help


@dataclass(frozen=True)
class Listing:
    """One of our accounts in a partner's current list (the same company, not a related one)."""

    our_crm_id: str
    partner_id: int
    partner_name: str
    their_population: str


def listings(session: Session, our_crm_ids: Collection[str] | None = None) -> list[Listing]:
    """Where partners' current lists have our accounts (all of them, or those of `our_crm_ids`)."""
    statement = (
        select(Match.our_crm_id, Match.explanation, Partner.id, Partner.name, PartnerAccount.population)
        .join(Partner, Partner.id == Match.partner_id)
        .join(PartnerUpload, (PartnerUpload.partner_id == Match.partner_id) & PartnerUpload.is_current)
        .join(
            PartnerAccount,
            (PartnerAccount.upload_id == PartnerUpload.id) & (PartnerAccount.their_id == Match.their_id),
        )
    )
    if our_crm_ids is not None:
        statement = statement.where(Match.our_crm_id.in_(list(our_crm_ids)))
    return [
        Listing(crm_id, partner_id, partner, population)
        for crm_id, explanation, partner_id, partner, population in session.execute(statement)
        if explanation.get("relation", "same") == "same"
    ]


def _shared_accounts(session: Session) -> list[SharedAccount]:
    """Every account of ours that at least one partner's current list has (same company, not related)."""
    partners: dict[str, set[tuple[str, str]]] = defaultdict(set)
    ids: dict[str, dict[str, int]] = defaultdict(dict)
    for listing in listings(session):
        partners[listing.our_crm_id].add((listing.partner_name, listing.their_population))
        ids[listing.our_crm_id][listing.partner_name] = listing.partner_id
    # A subquery, not the ids: there can be more of them than SQLite takes parameters.
    matched = select(Match.our_crm_id).scalar_subquery()
    accounts = [
        row
        for row in session.execute(
            select(Account.id, Account.crm_id, Account.name, Account.owner).where(Account.crm_id.in_(matched))
        )
        if row.crm_id in partners
    ]
    pipeline = {
        crm_id: (count, Decimal(amount or 0))
        for crm_id, count, amount in session.execute(
            select(Opportunity.account_crm_id, func.count(), func.sum(Opportunity.amount))
            .where(Opportunity.account_crm_id.in_(matched), Opportunity.is_closed.is_(False))
            .group_by(Opportunity.account_crm_id)
        )
    }
    return [
        SharedAccount(
            account_id,
            crm_id,
            name,
            owner,
            *pipeline.get(crm_id, (0, Decimal(0))),
            sorted(partners[crm_id]),
            dict(sorted(ids[crm_id].items())),
        )
        for account_id, crm_id, name, owner in accounts
    ]


def most_shared_accounts(session: Session, actor: Actor, *, limit: int = 50) -> list[SharedAccount]:
    """Our accounts that the most partners have, most first (then by name)."""
    require(actor, Permission.READ_MAPPING)
    found = _shared_accounts(session)
    found.sort(key=lambda a: (-len({p for p, _ in a.partners}), a.name))
    return found[:limit]


def co_sell_list(session: Session, actor: Actor, *, owner: str = "") -> dict[str, list[SharedAccount]]:
    """Account owner → their accounts with open pipeline that partners share, largest pipeline first."""
    require(actor, Permission.READ_MAPPING)
    by_owner: dict[str, list[SharedAccount]] = defaultdict(list)
    for account in _shared_accounts(session):
        if account.open_opportunities and (not owner or account.owner == owner):
            by_owner[account.owner].append(account)
    return {
        name: sorted(accounts, key=lambda a: (-a.open_amount, a.name))
        for name, accounts in sorted(by_owner.items())
    }
