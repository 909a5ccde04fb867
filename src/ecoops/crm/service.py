"""Reading our CRM records: accounts and opportunities, narrowed to what the actor may read."""

from __future__ import annotations

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from ecoops.actors import Actor
from ecoops.attribution.models import PartnerTouch
from ecoops.crm.models import Account, Opportunity
from ecoops.pagination import Page, paginate
from ecoops.partners.models import Partner
from ecoops.permissions import Permission, require


def readable_accounts(actor: Actor) -> Select[Account]:
    """Our accounts are internal data: partner users never read them here (sharing rules apply elsewhere)."""
    require(actor, Permission.READ_CRM)
    return select(Account)


def readable_opportunities(actor: Actor) -> Select[Opportunity]:
    require(actor, Permission.READ_CRM)
    return select(Opportunity)


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
