"""Reading our CRM records: accounts, opportunities and contacts, narrowed to what the actor may read."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import TypeVar

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from ecoops.actors import Actor
from ecoops.attribution.models import PartnerTouch
from ecoops.crm.models import Account, Contact, Opportunity, OpportunityStageChange
from ecoops.pagination import Page, paginate
from ecoops.partners.models import Partner
from ecoops.partners.service import readable_partners
from ecoops.permissions import NotFound, Permission, allowed, require

Record = TypeVar("Record", Account, Opportunity)


def readable_accounts(actor: Actor) -> Select[Account]:
    """Our accounts are internal data: partner users never read them here (sharing rules apply elsewhere)."""
    require(actor, Permission.READ_CRM)
    return select(Account)


def readable_opportunities(actor: Actor) -> Select[Opportunity]:
    require(actor, Permission.READ_CRM)
    return select(Opportunity)


def readable_contacts(actor: Actor) -> Select[Contact]:
    require(actor, Permission.READ_CRM)
    return select(Contact)


def readable_stage_changes(actor: Actor) -> Select[OpportunityStageChange]:
    require(actor, Permission.READ_CRM)
    return select(OpportunityStageChange)


def search_accounts(
    session: Session, actor: Actor, *, q: str = "", owner: str = "", page: int = 1, per_page: int = 50
) -> Page[Account]:
    statement = readable_accounts(actor)
    if q.strip():
        pattern = f"%{q.strip().lower()}%"
        statement = statement.where(
            or_(
                func.lower(Account.name).like(pattern),
                Account.domain.like(pattern),
                Account.crm_id == q.strip(),
            )
        )
    if owner:
        statement = statement.where(Account.owner == owner)
    return paginate(
        session, statement.order_by(func.lower(Account.name), Account.id), page=page, per_page=per_page
    )


def account_owners(session: Session, actor: Actor) -> list[str]:
    """The distinct account owners, for the owner filter."""
    statement = readable_accounts(actor).with_only_columns(Account.owner).where(Account.owner != "")
    return list(session.scalars(statement.distinct().order_by(Account.owner)))


def get_account(session: Session, actor: Actor, account_id: int) -> Account:
    account = session.scalar(readable_accounts(actor).where(Account.id == account_id))
    if account is None:
        raise NotFound(f"no account {account_id}")
    return account


def by_crm_id(
    session: Session, actor: Actor, model: type[Record], crm_ids: Iterable[str]
) -> dict[str, Record]:
    """The accounts (or opportunities) among `crm_ids` by CRM id, for pages that name and link them.

    Empty for an actor without READ_CRM: the page then shows the bare ids it already had.
    """
    wanted = {crm_id for crm_id in crm_ids if crm_id}
    if not wanted or not allowed(actor, Permission.READ_CRM):
        return {}
    return {r.crm_id: r for r in session.scalars(select(model).where(model.crm_id.in_(wanted)))}


class OpportunityStatus(StrEnum):
    OPEN = "open"
    WON = "won"
    LOST = "lost"


@dataclass(frozen=True)
class OpportunityFilters:
    """Filters of the opportunity list; empty fields filter nothing, date ranges include both ends."""

    account_id: int | None = None
    owner: str = ""
    status: OpportunityStatus | None = None
    created_from: date | None = None
    created_to: date | None = None
    close_from: date | None = None
    close_to: date | None = None


_STATUS_CONDITION = {
    OpportunityStatus.OPEN: Opportunity.is_closed.is_(False),
    OpportunityStatus.WON: and_(Opportunity.is_closed.is_(True), Opportunity.is_won.is_(True)),
    OpportunityStatus.LOST: and_(Opportunity.is_closed.is_(True), Opportunity.is_won.is_(False)),
}


def search_opportunities(
    session: Session, actor: Actor, filters: OpportunityFilters, *, page: int = 1, per_page: int = 50
) -> Page[Opportunity]:
    statement = readable_opportunities(actor)
    if filters.account_id is not None:
        account_ids = readable_accounts(actor).with_only_columns(Account.crm_id)
        statement = statement.where(
            Opportunity.account_crm_id.in_(account_ids.where(Account.id == filters.account_id))
        )
    if filters.owner:
        statement = statement.where(Opportunity.owner == filters.owner)
    if filters.status is not None:
        statement = statement.where(_STATUS_CONDITION[filters.status])
    for column, low, high in (
        (Opportunity.created_on, filters.created_from, filters.created_to),
        (Opportunity.close_date, filters.close_from, filters.close_to),
    ):
        if low is not None:
            statement = statement.where(column >= low)
        if high is not None:
            statement = statement.where(column <= high)
    statement = statement.order_by(Opportunity.created_on.desc(), Opportunity.id.desc())
    return paginate(session, statement, page=page, per_page=per_page)


def get_opportunity(session: Session, actor: Actor, opportunity_id: int) -> Opportunity:
    opportunity = session.scalar(readable_opportunities(actor).where(Opportunity.id == opportunity_id))
    if opportunity is None:
        raise NotFound(f"no opportunity {opportunity_id}")
    return opportunity


def stage_histories(
    session: Session, actor: Actor, opportunities: list[Opportunity]
) -> dict[str, list[OpportunityStageChange]]:
    """Each opportunity's stage history (by CRM id), oldest first; one query for the whole list."""
    crm_ids = [opportunity.crm_id for opportunity in opportunities]
    statement = readable_stage_changes(actor).where(OpportunityStageChange.opportunity_crm_id.in_(crm_ids))
    histories: dict[str, list[OpportunityStageChange]] = {crm_id: [] for crm_id in crm_ids}
    for change in session.scalars(
        statement.order_by(OpportunityStageChange.changed_on, OpportunityStageChange.id)
    ):
        histories[change.opportunity_crm_id].append(change)
    return histories


def account_opportunities(session: Session, actor: Actor, account: Account) -> list[Opportunity]:
    """All of an account's opportunities, newest first (an account rarely has more than a few dozen)."""
    statement = readable_opportunities(actor).where(Opportunity.account_crm_id == account.crm_id)
    return list(session.scalars(statement.order_by(Opportunity.created_on.desc(), Opportunity.id.desc())))


def search_contacts(
    session: Session,
    actor: Actor,
    *,
    account_id: int | None = None,
    q: str = "",
    page: int = 1,
    per_page: int = 50,
) -> Page[Contact]:
    """Contacts, optionally of one account, matching `q` on name or e-mail."""
    statement = readable_contacts(actor)
    if account_id is not None:
        account_ids = readable_accounts(actor).with_only_columns(Account.crm_id)
        statement = statement.where(Contact.account_crm_id.in_(account_ids.where(Account.id == account_id)))
    if q.strip():
        pattern = f"%{q.strip().lower()}%"
        full_name = func.lower(Contact.first_name + " " + Contact.last_name)
        statement = statement.where(or_(full_name.like(pattern), func.lower(Contact.email).like(pattern)))
    statement = statement.order_by(func.lower(Contact.last_name), func.lower(Contact.first_name), Contact.id)
    return paginate(session, statement, page=page, per_page=per_page)


@dataclass
class AccountPartner:
    """A partner that touched an account: which kinds of touch, and over which dates."""

    partner: Partner
    kinds: set[str] = field(default_factory=set)
    first_on: date | None = None
    last_on: date | None = None

    def add(self, kind: str, on: date | None) -> None:
        self.kinds.add(kind)
        if on is not None:
            self.first_on = on if self.first_on is None else min(self.first_on, on)
            self.last_on = on if self.last_on is None else max(self.last_on, on)


def account_partners(
    session: Session, actor: Actor, account: Account, opportunities: list[Opportunity]
) -> list[AccountPartner]:
    """Partners with a touch on the account or one of its opportunities, or named by their source field."""
    opportunity_ids = [opportunity.crm_id for opportunity in opportunities]
    touches = session.execute(
        select(PartnerTouch, Partner)
        .join(Partner, Partner.id == PartnerTouch.partner_id)
        .where(
            Partner.id.in_(readable_partners(actor).with_only_columns(Partner.id)),
            or_(
                PartnerTouch.account_crm_id == account.crm_id,
                PartnerTouch.opportunity_crm_id.in_(opportunity_ids),
            ),
        )
    )
    found: dict[int, AccountPartner] = {}
    for touch, partner in touches:
        found.setdefault(partner.id, AccountPartner(partner)).add(touch.kind, touch.touched_on)
    sources: defaultdict[str, list[date | None]] = defaultdict(list)
    for opportunity in opportunities:
        if opportunity.partner_source:
            sources[opportunity.partner_source].append(opportunity.created_on)
    if sources:
        named = readable_partners(actor).where(
            or_(Partner.crm_id.in_(list(sources)), Partner.name.in_(list(sources)))
        )
        for partner in session.scalars(named):
            for on in sources.get(partner.crm_id or "", []) + sources.get(partner.name, []):
                found.setdefault(partner.id, AccountPartner(partner)).add("crm_partner_source", on)
    return sorted(found.values(), key=lambda row: row.partner.name.lower())


def partner_opportunities(
    session: Session, actor: Actor, partner: Partner, *, page: int = 1, per_page: int = 25
) -> Page[Opportunity]:
    """Opportunities the partner touched, or that the CRM's partner-source field names it on."""
    touched = select(PartnerTouch.opportunity_crm_id).where(
        PartnerTouch.partner_id == partner.id, PartnerTouch.opportunity_crm_id != ""
    )
    names = [value for value in (partner.crm_id, partner.name) if value]
    statement = readable_opportunities(actor).where(
        or_(Opportunity.crm_id.in_(touched), Opportunity.partner_source.in_(names))
    )
    statement = statement.order_by(Opportunity.created_on.desc(), Opportunity.id.desc())
    return paginate(session, statement, page=page, per_page=per_page)
