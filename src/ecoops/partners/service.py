"""Partner program rules: partners, programs and tiers, and moves through the life cycle."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Row, Select, func, or_, select
from sqlalchemy.orm import Session, selectinload

from ecoops import audit
from ecoops.accounts.models import User
from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor, ActorKind
from ecoops.events import EventKind, emit
from ecoops.onboarding.checklist import open_items_for_move
from ecoops.pagination import Page, paginate
from ecoops.partners.models import (
    STAGE_ORDER,
    Membership,
    Partner,
    PartnerDomain,
    PartnerStageChange,
    PartnerType,
    Stage,
    Tier,
)
from ecoops.partners.programs import create_program as create_program
from ecoops.partners.programs import list_programs as list_programs
from ecoops.permissions import NotFound, Permission, require

_AFTER_SIGNING = frozenset(STAGE_ORDER[STAGE_ORDER.index(Stage.SIGNED) : STAGE_ORDER.index(Stage.CHURNED)])


@dataclass(frozen=True)
class PartnerFilters:
    """The directory's search and filters; empty fields filter nothing."""

    q: str = ""
    partner_type: str = ""
    program_id: int | None = None
    tier_id: int | None = None
    stage: str = ""
    owner_id: int | None = None


def readable_partners(actor: Actor) -> Select[Partner]:
    """Every partner query starts here: internal readers see all, a partner user only its own."""
    statement = select(Partner)
    if actor.kind == ActorKind.PARTNER_USER:
        return statement.where(Partner.id == actor.partner_id)
    require(actor, Permission.READ_PROGRAM)
    return statement


def partner_choices(session: Session) -> Sequence[Row[int, str]]:
    """Every partner's id and name by name, for a drop-down on a staff page: rows (unpacked, or `.id` and
    `.name` in templates), not models, since a program may have thousands and pages list them on every
    visit."""
    return session.execute(select(Partner.id, Partner.name).order_by(Partner.name)).all()


def search_partners(
    session: Session, actor: Actor, filters: PartnerFilters, *, page: int = 1, per_page: int = 50
) -> Page[Partner]:
    statement = readable_partners(actor).options(
        selectinload(Partner.memberships).selectinload(Membership.program),
        selectinload(Partner.memberships).selectinload(Membership.tier),
    )
    if filters.q.strip():
        pattern = f"%{filters.q.strip().lower()}%"
        domain_hit = select(PartnerDomain.partner_id).where(PartnerDomain.domain.like(pattern))
        statement = statement.where(or_(func.lower(Partner.name).like(pattern), Partner.id.in_(domain_hit)))
    if filters.partner_type:
        statement = statement.where(Partner.partner_type == filters.partner_type)
    if filters.stage:
        statement = statement.where(Partner.stage == filters.stage)
    if filters.owner_id is not None:
        statement = statement.where(Partner.owner_id == filters.owner_id)
    if filters.program_id is not None or filters.tier_id is not None:
        member = select(Membership.partner_id)
        if filters.program_id is not None:
            member = member.where(Membership.program_id == filters.program_id)
        if filters.tier_id is not None:
            member = member.where(Membership.tier_id == filters.tier_id)
        statement = statement.where(Partner.id.in_(member))
    statement = statement.order_by(func.lower(Partner.name), Partner.id)
    return paginate(session, statement, page=page, per_page=per_page)


def get_partner(session: Session, actor: Actor, partner_id: int, *, history: bool = True) -> Partner:
    """The partner, or NotFound when it does not exist or the actor may not see it.

    `history=False` leaves its stage and change history unread: the portal's home, on every partner
    user's visit, shows neither.
    """
    options = [
        selectinload(Partner.domains),
        selectinload(Partner.memberships).selectinload(Membership.program),
        selectinload(Partner.memberships).selectinload(Membership.tier),
    ]
    if history:
        options += [selectinload(Partner.stage_changes), selectinload(Partner.changes)]
    partner = session.scalar(readable_partners(actor).where(Partner.id == partner_id).options(*options))
    if partner is None:
        raise NotFound(f"no partner {partner_id}")
    return partner


def create_partner(
    session: Session,
    actor: Actor,
    *,
    name: str,
    partner_type: str,
    stage: str = Stage.PROSPECT,
    stage_since: date,
    website: str = "",
    domains: list[str] | None = None,
    country: str = "",
    owner_id: int | None = None,
    crm_id: str | None = None,
    description: str = "",
    tiers: list[Tier] | None = None,
) -> Partner:
    """Create a partner at a stage, recording that stage as the first entry of its history."""
    require(actor, Permission.EDIT_PROGRAM)
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput("a partner needs a name of 1 to 200 characters")
    if partner_type not in PartnerType.__members__.values():
        raise InvalidInput(f"unknown partner type {partner_type!r}; one of {', '.join(PartnerType)}")
    stage = _stage(stage)
    check_partner_references(session, country=country, owner_id=owner_id, crm_id=crm_id, tiers=tiers)
    partner = Partner(
        name=name,
        partner_type=partner_type,
        stage=stage,
        stage_since=stage_since,
        website=website,
        country=country.upper(),
        owner_id=owner_id,
        crm_id=crm_id or None,
        description=description,
    )
    partner.domains = [PartnerDomain(domain=d.lower()) for d in dict.fromkeys(domains or []) if d]
    partner.memberships = [
        Membership(program_id=tier.program_id, tier_id=tier.id, joined_on=stage_since) for tier in tiers or []
    ]
    partner.stage_changes = [
        PartnerStageChange(from_stage=None, to_stage=stage, changed_on=stage_since, recorded_by=actor.label)
    ]
    session.add(partner)
    session.flush()
    audit.record(session, actor, "partner.created", "partner", partner.id, name=name, stage=stage)
    return partner


def check_partner_references(
    session: Session,
    *,
    country: str,
    owner_id: int | None,
    crm_id: str | None,
    tiers: list[Tier] | None,
    kept_tier_ids: frozenset[int] = frozenset(),
) -> None:
    """Refuse, with a message, what the database would otherwise refuse with an integrity error."""
    if country and not (len(country) == 2 and country.isalpha()):
        raise InvalidInput(f"country must be a two-letter ISO code such as DE or US, not {country!r}")
    if owner_id is not None:
        owner = session.get(User, owner_id)
        if owner is None or not owner.is_active:
            raise InvalidInput(f"no active user {owner_id} to own the partner")
    if crm_id and session.scalar(select(func.count()).where(Partner.crm_id == crm_id)):
        raise InvalidInput(f"another partner already has CRM id {crm_id}")
    programs = [tier.program_id for tier in tiers or []]
    if len(set(programs)) != len(programs):
        raise InvalidInput("a partner holds one tier per program")
    # Retired tiers and programs stay with partners that hold them, but no one new is placed in them.
    for tier in tiers or []:
        if tier.id not in kept_tier_ids and (tier.retired_on or tier.program.retired_on):
            raise InvalidInput(f"tier {tier.name} of {tier.program.name} is retired")


def _stage(value: str) -> Stage:
    try:
        return Stage(value)
    except ValueError:
        raise InvalidInput(f"unknown stage {value!r}; one of {', '.join(Stage)}") from None


def next_stage(current: Stage) -> Stage | None:
    """The usual next move from `current` (none after producing or churned), offered first in forms."""
    position = STAGE_ORDER.index(current)
    following = STAGE_ORDER[position + 1] if position + 1 < len(STAGE_ORDER) else None
    return None if following in (None, Stage.CHURNED) else following


def check_transition(current: Stage, target: Stage) -> None:
    """Churn only after signing; everything else may move forward, back, or re-sign after churn."""
    if target == current:
        raise InvalidInput(f"the partner is already {current.value}")
    if target == Stage.CHURNED and current not in _AFTER_SIGNING:
        raise InvalidInput(f"a partner can churn only after signing, not from {current.value}")


def check_onboarding(session: Session, partner: Partner, target: Stage) -> None:
    """Refuse a forward move while onboarding checklist items gating it are open, naming them."""
    blocking = open_items_for_move(session, partner, target)
    if blocking:
        titles = "; ".join(f"{item.title} ({item.program.name})" for item in blocking)
        raise InvalidInput(f"open onboarding items hold the move to {target.value}: {titles}")


def change_stage(
    session: Session, actor: Actor, partner: Partner, *, to: str, on: date, today: date, note: str = ""
) -> PartnerStageChange:
    """Move `partner` to stage `to` as of `on`, which may be in the past but not before its last move."""
    require(actor, Permission.EDIT_PROGRAM)
    target = _stage(to)
    check_transition(Stage(partner.stage), target)
    check_onboarding(session, partner, target)
    if on > today:
        raise InvalidInput(f"the change date {on} is in the future")
    if on < partner.stage_since:
        raise InvalidInput(f"the change date {on} is before the current stage began ({partner.stage_since})")
    change = PartnerStageChange(
        partner_id=partner.id,
        from_stage=partner.stage,
        to_stage=target.value,
        changed_on=on,
        note=note,
        recorded_by=actor.label,
    )
    session.add(change)
    previous = partner.stage
    partner.stage, partner.stage_since = target.value, on
    session.flush()
    audit.record(
        session,
        actor,
        "partner.stage_changed",
        "partner",
        partner.id,
        from_stage=previous,
        to_stage=target.value,
        on=on.isoformat(),
    )
    emit(
        session,
        EventKind.PARTNER_STAGE_CHANGED,
        partner_id=partner.id,
        partner_name=partner.name,
        from_stage=previous,
        to_stage=target.value,
        on=on.isoformat(),
        link=f"/partners/{partner.id}",
    )
    return change
