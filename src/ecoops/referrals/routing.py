"""Where an approved lead goes: the account's owner, else the seller of its territory, else round robin."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.accounts.models import User
from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor, Role
from ecoops.crm.models import Account
from ecoops.engines.matching.countries import country_code
from ecoops.permissions import NotFound
from ecoops.referrals.access import require_reviewer
from ecoops.referrals.models import Referral, TerritoryRule


def _user_for_owner(session: Session, owner: str) -> User | None:
    """The active user our CRM names as the account owner (CRMs export a name or an e-mail)."""
    if not owner.strip():
        return None
    owner = owner.strip().lower()
    match = or_(func.lower(User.name) == owner, User.email == owner)
    return session.scalar(select(User).where(match, User.is_active).order_by(User.id))


def _round_robin(session: Session) -> User | None:
    """The active seller whose last hand-off is the oldest (never first): the rotation is persisted in
    the referrals themselves, so it survives restarts and needs no counter."""
    last = (
        select(Referral.assigned_seller_id, func.max(Referral.decided_at).label("last"))
        .where(Referral.assigned_seller_id.is_not(None))
        .group_by(Referral.assigned_seller_id)
        .subquery()
    )
    statement = (
        select(User)
        .outerjoin(last, last.c.assigned_seller_id == User.id)
        .where(User.is_active, User.role == Role.SALES)
        .order_by(last.c.last.is_not(None), last.c.last, User.id)
    )
    return session.scalar(statement)


def route(session: Session, referral: Referral, account: Account | None) -> tuple[User | None, str]:
    """Who gets the lead: the account's owner, else the territory's seller, else the next seller in turn."""
    if account is not None and (owner := _user_for_owner(session, account.owner)):
        return owner, "account_owner"
    if referral.country:
        rule = session.scalar(select(TerritoryRule).where(TerritoryRule.country == referral.country))
        seller = session.get(User, rule.seller_id) if rule else None
        if seller is not None and seller.is_active:
            return seller, "territory"
    seller = _round_robin(session)
    return seller, "round_robin" if seller else ""


def territories(session: Session, actor: Actor) -> list[tuple[TerritoryRule, User]]:
    require_reviewer(actor)
    statement = select(TerritoryRule, User).join(User, User.id == TerritoryRule.seller_id)
    return [(rule, user) for rule, user in session.execute(statement.order_by(TerritoryRule.country))]


def set_territory(session: Session, actor: Actor, *, country: str, seller_id: int) -> TerritoryRule:
    """Send approved leads from `country` to this seller (replacing the country's previous seller)."""
    require_reviewer(actor)
    code = country_code(country) if country.strip() else None
    if code is None:
        raise InvalidInput(f"unknown country: {country[:60]!r}")
    seller = session.get(User, seller_id)
    if seller is None or not seller.is_active:
        raise InvalidInput("choose an active user to receive the leads")
    rule = session.scalar(select(TerritoryRule).where(TerritoryRule.country == code))
    if rule is None:
        rule = TerritoryRule(country=code, seller_id=seller.id)
        session.add(rule)
    rule.seller_id = seller.id
    session.flush()
    audit.record(
        session,
        actor,
        "referral_territory.set",
        "referral_territory",
        rule.id,
        country=code,
        seller_id=seller.id,
    )
    return rule


def remove_territory(session: Session, actor: Actor, territory_id: int) -> None:
    require_reviewer(actor)
    rule = session.get(TerritoryRule, territory_id)
    if rule is None:
        raise NotFound(f"no territory rule {territory_id}")
    session.delete(rule)
    audit.record(
        session, actor, "referral_territory.removed", "referral_territory", territory_id, country=rule.country
    )
