"""The workspace's own knowledge of companies, for matching: domain aliases and parent/subsidiary links.

An alias (acme.de → acme.com) makes two registrable domains one company; a parent link says one of our
accounts is a subsidiary of another. Every mapping run passes both to the engine (`engine_overrides`)
and puts them in its fingerprint, so a change re-maps each partner at its next run.
"""

from __future__ import annotations

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor
from ecoops.crm.models import Account
from ecoops.engines.matching import registrable_domain, registrable_domains
from ecoops.mapping.models import DomainAlias, ParentLink
from ecoops.permissions import NotFound, Permission, require

_ALIASES = pa.schema([("alias", pa.string()), ("domain", pa.string())])
_LINKS = pa.schema([("child", pa.string()), ("parent", pa.string())])


def _domain(value: str, what: str) -> str:
    domain = registrable_domain(value.strip())
    if domain is None:
        raise InvalidInput(
            f"{what} {value.strip()!r} is not a usable company domain "
            "(no public suffix, or a free-mail or placeholder domain)"
        )
    return domain


def domain_aliases(session: Session, actor: Actor) -> list[DomainAlias]:
    """The aliases, by domain then alias."""
    require(actor, Permission.READ_MAPPING)
    return list(session.scalars(select(DomainAlias).order_by(DomainAlias.domain, DomainAlias.alias)))


def add_domain_alias(session: Session, actor: Actor, *, alias: str, domain: str) -> DomainAlias:
    """Record that `alias` is the same company as `domain`; both are normalised to registrable domains.

    One level only: a domain that is itself an alias cannot be aliased to, and an alias cannot be the
    domain of other aliases (say acme.de → acme.com, not acme.de → acme.eu → acme.com).
    """
    require(actor, Permission.MANAGE_MAPPING)
    alias_domain, canonical = _domain(alias, "alias"), _domain(domain, "domain")
    if alias_domain == canonical:
        raise InvalidInput(f"{alias.strip()!r} and {domain.strip()!r} are both {canonical}: nothing to alias")
    existing = session.scalar(select(DomainAlias).where(DomainAlias.alias == alias_domain))
    if existing is not None:
        raise InvalidInput(f"{alias_domain} is already an alias of {existing.domain}")
    if session.scalar(select(DomainAlias.id).where(DomainAlias.domain == alias_domain)) is not None:
        raise InvalidInput(f"{alias_domain} has aliases of its own: alias those to {canonical} instead")
    chained = session.scalar(select(DomainAlias).where(DomainAlias.alias == canonical))
    if chained is not None:
        raise InvalidInput(f"{canonical} is an alias of {chained.domain}: alias {alias_domain} to that")
    record = DomainAlias(alias=alias_domain, domain=canonical, created_by=actor.label)
    session.add(record)
    session.flush()
    audit.record(
        session, actor, "mapping.alias_added", "domain_alias", record.id, alias=alias_domain, domain=canonical
    )
    return record


def remove_domain_alias(session: Session, actor: Actor, alias_id: int) -> None:
    audited = {"alias": "alias", "domain": "domain"}
    _remove(session, actor, DomainAlias, alias_id, "mapping.alias_removed", "domain_alias", audited)


def parent_links(session: Session, actor: Actor) -> list[ParentLink]:
    """The links, by parent then child."""
    require(actor, Permission.READ_MAPPING)
    return list(
        session.scalars(select(ParentLink).order_by(ParentLink.parent_crm_id, ParentLink.child_crm_id))
    )


def add_parent_link(session: Session, actor: Actor, *, child_crm_id: str, parent_crm_id: str) -> ParentLink:
    """Record that our account `child_crm_id` is a subsidiary of our account `parent_crm_id`.

    Both must be our accounts; an account is never its own parent, has one parent at most, and a link
    that would close a cycle (the parent is already below the child) is refused.
    """
    require(actor, Permission.MANAGE_MAPPING)
    child, parent = child_crm_id.strip(), parent_crm_id.strip()
    for crm_id, what in ((child, "subsidiary"), (parent, "parent")):
        if not crm_id or session.scalar(select(Account.id).where(Account.crm_id == crm_id)) is None:
            raise InvalidInput(f"the {what} {crm_id!r} is not one of our accounts")
    if child == parent:
        raise InvalidInput(f"{child!r} cannot be its own parent")
    existing = session.scalar(select(ParentLink).where(ParentLink.child_crm_id == child))
    if existing is not None:
        raise InvalidInput(
            f"{child!r} already has a parent, {existing.parent_crm_id!r}: remove that link first"
        )
    parents: dict[str, str] = {
        child: parent
        for child, parent in session.execute(select(ParentLink.child_crm_id, ParentLink.parent_crm_id))
    }
    above, seen = parent, {parent}
    while above in parents:  # one parent each, so the ancestors are a chain
        above = parents[above]
        if above in seen:
            break
        seen.add(above)
    if child in seen:
        raise InvalidInput(f"{parent!r} is already a subsidiary of {child!r}: the link would make a cycle")
    record = ParentLink(child_crm_id=child, parent_crm_id=parent, created_by=actor.label)
    session.add(record)
    session.flush()
    audit.record(
        session, actor, "mapping.parent_link_added", "parent_link", record.id, child=child, parent=parent
    )
    return record


def remove_parent_link(session: Session, actor: Actor, link_id: int) -> None:
    _remove(
        session,
        actor,
        ParentLink,
        link_id,
        "mapping.parent_link_removed",
        "parent_link",
        {"child": "child_crm_id", "parent": "parent_crm_id"},
    )


def _remove(
    session: Session,
    actor: Actor,
    model: type[DomainAlias] | type[ParentLink],
    record_id: int,
    action: str,
    kind: str,
    audited: dict[str, str],
) -> None:
    """Delete an alias or a link, auditing what it was (detail name → column)."""
    require(actor, Permission.MANAGE_MAPPING)
    record = session.get(model, record_id)
    if record is None:
        raise NotFound(f"no {kind.replace('_', ' ')} {record_id}")
    details = {name: getattr(record, column) for name, column in audited.items()}
    audit.record(session, actor, action, kind, record_id, **details)
    session.delete(record)
    session.flush()


def link_domains(session: Session) -> list[tuple[str, str, str, str]]:
    """Each link as (child crm_id, parent crm_id, child domain, parent domain); a domain is "" where the
    account has none usable (its domain field, else its website): such a link cannot be used yet."""
    links = session.execute(
        select(ParentLink.child_crm_id, ParentLink.parent_crm_id).order_by(ParentLink.id)
    ).all()
    crm_ids = sorted({crm_id for link in links for crm_id in link})
    sites = session.execute(
        select(Account.crm_id, Account.domain, Account.website).where(Account.crm_id.in_(crm_ids))
    ).all()
    domains = registrable_domains(pa.array([d or w or None for _, d, w in sites], pa.string())).to_pylist()
    by_account = {crm_id: domain or "" for (crm_id, _, _), domain in zip(sites, domains, strict=True)}
    return [(c, p, by_account.get(c, ""), by_account.get(p, "")) for c, p in links]


def engine_overrides(session: Session) -> tuple[pa.Table, pa.Table]:
    """The engine's `domain_aliases` (alias, domain) and `parent_links` (child, parent domains) tables,
    in a stable order, so they can go into a run's fingerprint as they are."""
    aliases = session.execute(select(DomainAlias.alias, DomainAlias.domain).order_by(DomainAlias.alias)).all()
    usable = [(c, p) for _, _, c, p in link_domains(session) if c and p and c != p]
    return (
        pa.table({"alias": [a for a, _ in aliases], "domain": [d for _, d in aliases]}, schema=_ALIASES),
        pa.table({"child": [c for c, _ in usable], "parent": [p for _, p in usable]}, schema=_LINKS),
    )
