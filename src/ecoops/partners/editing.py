"""Editing a partner after creation: profile, owner, type and its place (tier) in each program.

Every change becomes a dated, signed line of the partner's history (PartnerChange) and one audit
event. Two people saving the same partner at once are serialised on the partner's row: the later
save applies on top of the earlier one (last write wins), never a 500.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ecoops import audit
from ecoops.accounts.models import User
from ecoops.actors import Actor
from ecoops.partners.models import Membership, Partner, PartnerChange, PartnerDomain, PartnerType, Tier
from ecoops.partners.programs import FieldError
from ecoops.partners.service import check_partner_references, readable_partners
from ecoops.permissions import NotFound, Permission, require


@dataclass(frozen=True)
class PartnerEdit:
    """The fields to change; None leaves a field as it is. `tier_ids` is the partner's whole set of
    tiers, one per program: a program missing from it is left, a new one joined."""

    name: str | None = None
    partner_type: str | None = None
    website: str | None = None
    domains: list[str] | None = None
    country: str | None = None
    description: str | None = None
    owner_id: int | None = None
    clear_owner: bool = False  # owner_id None means "unchanged"; this means "unassigned"
    tier_ids: list[int] | None = None
    certified_people: int | None = None  # a tier criterion (partners/tier_figures.py)


MAX_CERTIFIED_PEOPLE = 100_000


def locked_partner(session: Session, actor: Actor, partner_id: int) -> Partner:
    """The partner, its row locked (PostgreSQL) and its collections read after the lock.

    Without the lock, two saves read the same memberships and both insert the program they join
    (a unique-key error, a 500; tests/partners/test_concurrent_edits.py). `populate_existing` makes
    the read win over a copy the session may already hold from before the lock.
    """
    partner = session.scalar(
        readable_partners(actor)
        .where(Partner.id == partner_id)
        .with_for_update(of=Partner)
        .options(
            selectinload(Partner.domains),
            selectinload(Partner.memberships).selectinload(Membership.program),
            selectinload(Partner.memberships).selectinload(Membership.tier),
        )
        .execution_options(populate_existing=True)
    )
    if partner is None:
        raise NotFound(f"no partner {partner_id}")
    return partner


def _owner_name(session: Session, owner_id: int | None) -> str:
    user = session.get(User, owner_id) if owner_id else None
    return user.name if user else ""


def place(membership: Membership) -> str:
    return (
        f"{membership.program.name} · {membership.tier.name}" if membership.tier else membership.program.name
    )


def update_partner(
    session: Session, actor: Actor, partner_id: int, edit: PartnerEdit, *, on: date, today: date
) -> list[PartnerChange]:
    """Apply `edit` as of `on` (not in the future); the history lines written, none if nothing changed."""
    require(actor, Permission.EDIT_PROGRAM)
    if on > today:
        raise FieldError("changed_on", f"the change date {on} is in the future")
    partner = locked_partner(session, actor, partner_id)
    changes: list[tuple[str, str, str]] = []  # (field, old, new) as people read them

    def set_text(field: str, attribute: str, value: str | None) -> None:
        if value is not None and value != getattr(partner, attribute):
            changes.append((field, getattr(partner, attribute), value))
            setattr(partner, attribute, value)

    if edit.name is not None:
        name = edit.name.strip()
        if not name or len(name) > 200:
            raise FieldError("name", "a partner needs a name of 1 to 200 characters")
        set_text("name", "name", name)
    if edit.partner_type is not None and edit.partner_type not in PartnerType.__members__.values():
        raise FieldError(
            "partner_type", f"unknown partner type {edit.partner_type!r}; one of {', '.join(PartnerType)}"
        )
    set_text("type", "partner_type", edit.partner_type)
    if edit.website is not None and len(edit.website.strip()) > 300:
        raise FieldError("website", "at most 300 characters")
    set_text("website", "website", None if edit.website is None else edit.website.strip())
    country = None if edit.country is None else edit.country.strip().upper()
    owner_id = None if edit.clear_owner else edit.owner_id
    tiers = _tiers(session, edit.tier_ids)
    kept = frozenset(m.tier_id for m in partner.memberships if m.tier_id)
    check_partner_references(
        session, country=country or "", owner_id=owner_id, crm_id=None, tiers=tiers, kept_tier_ids=kept
    )
    set_text("country", "country", country)
    if edit.description is not None:
        set_text("description", "description", edit.description.strip())
    if (edit.clear_owner or owner_id is not None) and owner_id != partner.owner_id:
        changes.append(("owner", _owner_name(session, partner.owner_id), _owner_name(session, owner_id)))
        partner.owner_id = owner_id
    if edit.certified_people is not None:
        if not 0 <= edit.certified_people <= MAX_CERTIFIED_PEOPLE:
            raise FieldError(
                "certified_people", f"between 0 and {MAX_CERTIFIED_PEOPLE}, not {edit.certified_people}"
            )
        if edit.certified_people != partner.certified_people:
            changes.append(("certified people", str(partner.certified_people), str(edit.certified_people)))
            partner.certified_people = edit.certified_people
    if edit.domains is not None:
        changes += _set_domains(partner, edit.domains)
    if tiers is not None:
        changes += _set_tiers(partner, tiers, on)
    if not changes:
        return []
    lines = [
        PartnerChange(field=f, old_value=old, new_value=new, changed_on=on, recorded_by=actor.label)
        for f, old, new in changes
    ]
    partner.changes.extend(lines)
    session.flush()
    audit.record(
        session,
        actor,
        "partner.updated",
        "partner",
        partner.id,
        on=on.isoformat(),
        changes=[{"field": f, "from": old, "to": new} for f, old, new in changes],
    )
    return lines


def _tiers(session: Session, tier_ids: list[int] | None) -> list[Tier] | None:
    if tier_ids is None:
        return None
    tiers = list(
        session.scalars(select(Tier).where(Tier.id.in_(tier_ids)).options(selectinload(Tier.program)))
    )
    missing = set(tier_ids) - {tier.id for tier in tiers}
    if missing:
        raise FieldError("tier_ids", f"no tier {min(missing)}")
    return tiers


def _set_domains(partner: Partner, domains: list[str]) -> list[tuple[str, str, str]]:
    """Keep the rows of domains that stay (a delete and re-insert would clash on the unique key)."""
    wanted = list(dict.fromkeys(d.strip().lower() for d in domains if d.strip()))
    if any(len(d) > 253 for d in wanted):
        raise FieldError("domains", "a domain has at most 253 characters")
    before = [d.domain for d in partner.domains]
    if sorted(before) == sorted(wanted):
        return []
    partner.domains = [d for d in partner.domains if d.domain in wanted] + [
        PartnerDomain(domain=d) for d in wanted if d not in before
    ]
    return [("domains", ", ".join(sorted(before)), ", ".join(sorted(wanted)))]


def _set_tiers(partner: Partner, tiers: list[Tier], on: date) -> list[tuple[str, str, str]]:
    """Join, leave, or move within programs; a move within one program is a dated tier change."""
    by_program = {tier.program_id: tier for tier in tiers}
    changes: list[tuple[str, str, str]] = []
    kept: list[Membership] = []
    for membership in partner.memberships:
        tier = by_program.pop(membership.program_id, None)
        if tier is None:
            changes.append(("program", place(membership), ""))
            continue
        if tier.id != membership.tier_id:
            old = place(membership)
            membership.tier_id, membership.tier = tier.id, tier
            changes.append(("tier", old, place(membership)))
        kept.append(membership)
    for tier in by_program.values():
        membership = Membership(program_id=tier.program_id, program=tier.program, tier=tier, joined_on=on)
        kept.append(membership)
        changes.append(("program", "", place(membership)))
    partner.memberships = kept
    return changes
