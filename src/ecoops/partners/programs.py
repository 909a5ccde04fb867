"""Running the program: create, edit, retire and delete programs and their tiers.

A program or tier some partner holds is never deleted, only retired: it leaves the pickers and
stays on the partners (and in their history) that held it.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ecoops import audit
from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor
from ecoops.partners.models import Membership, Program, Tier
from ecoops.permissions import NotFound, Permission, require

PROGRAM_NAME_MAX, TIER_NAME_MAX, DESCRIPTION_MAX = 120, 80, 5000


class FieldError(InvalidInput):
    """Invalid input in one named field; the message starts with that field's name."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field


def _name(field: str, value: str, limit: int) -> str:
    value = value.strip()
    if not value:
        raise FieldError(field, "must not be blank")
    if len(value) > limit:
        raise FieldError(field, f"at most {limit} characters, not {len(value)}")
    return value


def _description(value: str) -> str:
    if len(value) > DESCRIPTION_MAX:
        raise FieldError("description", f"at most {DESCRIPTION_MAX} characters, not {len(value)}")
    return value.strip()


def _unique_program_name(session: Session, name: str, program_id: int | None = None) -> None:
    # Case-insensitive: "Resellers" and "resellers" would be two lines no one can tell apart. Folded in
    # Python, not by SQL lower(): SQLite's folds ASCII only, so "Ärzte" / "ÄRZTE", or the same non-ASCII
    # name, reached the unique index as a 500. A workspace has a handful of programs.
    key = name.casefold()
    if any(
        other.casefold() == key
        for other in session.scalars(select(Program.name).where(Program.id != (program_id or 0)))
    ):
        raise FieldError("name", f"a program named {name!r} already exists")


def _unique_tier_name(program: Program, name: str, tier_id: int | None = None) -> None:
    if any(t.name.casefold() == name.casefold() and t.id != tier_id for t in program.tiers):
        raise FieldError("name", f"{program.name} already has a tier named {name!r}")


def list_programs(session: Session, actor: Actor, *, active_only: bool = False) -> list[Program]:
    """Every program with its tiers, by name; `active_only` for pickers (no retired programs)."""
    require(actor, Permission.READ_PROGRAM)
    statement = select(Program).options(selectinload(Program.tiers)).order_by(Program.name)
    if active_only:
        statement = statement.where(Program.retired_on.is_(None))
    return list(session.scalars(statement))


def get_program(session: Session, actor: Actor, program_id: int) -> Program:
    require(actor, Permission.READ_PROGRAM)
    program = session.scalar(
        select(Program).where(Program.id == program_id).options(selectinload(Program.tiers))
    )
    if program is None:
        raise NotFound(f"no program {program_id}")
    return program


def get_tier(session: Session, actor: Actor, program_id: int, tier_id: int) -> Tier:
    tier = session.get(Tier, tier_id)
    if tier is None or tier.program_id != program_id:
        raise NotFound(f"no tier {tier_id} in program {program_id}")
    require(actor, Permission.READ_PROGRAM)
    return tier


def create_program(
    session: Session, actor: Actor, *, name: str, tiers: list[str], description: str = ""
) -> Program:
    """A program with its tiers, entry level first."""
    require(actor, Permission.EDIT_PROGRAM)
    name = _name("name", name, PROGRAM_NAME_MAX)
    _unique_program_name(session, name)
    tier_names = [_name("tiers", tier, TIER_NAME_MAX) for tier in tiers]
    if len({t.casefold() for t in tier_names}) != len(tier_names):
        raise FieldError("tiers", "tier names must be distinct within a program")
    program = Program(name=name, description=_description(description))
    program.tiers = [Tier(name=tier, rank=rank) for rank, tier in enumerate(tier_names)]
    session.add(program)
    session.flush()
    audit.record(session, actor, "program.created", "program", program.id, name=name, tiers=tier_names)
    return program


def update_program(session: Session, actor: Actor, program: Program, *, name: str, description: str) -> None:
    require(actor, Permission.EDIT_PROGRAM)
    name = _name("name", name, PROGRAM_NAME_MAX)
    _unique_program_name(session, name, program.id)
    before = {"name": program.name, "description": program.description}
    program.name, program.description = name, _description(description)
    session.flush()
    after = {"name": program.name, "description": program.description}
    audit.record(session, actor, "program.updated", "program", program.id, before=before, after=after)


def set_program_retired(
    session: Session, actor: Actor, program: Program, *, retired: bool, today: date
) -> None:
    """Retire a program (out of the pickers, kept on its partners) or bring it back."""
    require(actor, Permission.EDIT_PROGRAM)
    program.retired_on = today if retired else None
    session.flush()
    action = "program.retired" if retired else "program.reinstated"
    audit.record(session, actor, action, "program", program.id, name=program.name)


def delete_program(session: Session, actor: Actor, program: Program) -> None:
    """Delete a program no partner ever held; one in use can only be retired."""
    require(actor, Permission.EDIT_PROGRAM)
    held = session.scalar(select(func.count()).where(Membership.program_id == program.id))
    if held:
        raise InvalidInput(f"{program.name} is held by {held} partner(s): retire it instead of deleting it")
    audit.record(session, actor, "program.deleted", "program", program.id, name=program.name)
    session.delete(program)
    session.flush()


def add_tier(session: Session, actor: Actor, program: Program, *, name: str) -> Tier:
    """A new tier at the top of the program's ladder."""
    require(actor, Permission.EDIT_PROGRAM)
    name = _name("name", name, TIER_NAME_MAX)
    _unique_tier_name(program, name)
    tier = Tier(name=name, rank=max((t.rank for t in program.tiers), default=-1) + 1)
    program.tiers.append(tier)
    session.flush()
    audit.record(session, actor, "tier.created", "tier", tier.id, program=program.name, name=name)
    return tier


def update_tier(session: Session, actor: Actor, tier: Tier, *, name: str, rank: int) -> None:
    require(actor, Permission.EDIT_PROGRAM)
    name = _name("name", name, TIER_NAME_MAX)
    _unique_tier_name(tier.program, name, tier.id)
    if not 0 <= rank <= 1000:
        raise FieldError("rank", f"must be between 0 and 1000, not {rank}")
    before = {"name": tier.name, "rank": tier.rank}
    tier.name, tier.rank = name, rank
    session.flush()
    after = {"name": tier.name, "rank": tier.rank}
    audit.record(session, actor, "tier.updated", "tier", tier.id, before=before, after=after)


def set_tier_retired(session: Session, actor: Actor, tier: Tier, *, retired: bool, today: date) -> None:
    """Retire a tier: no new partner is placed in it; those in it keep it until moved."""
    require(actor, Permission.EDIT_PROGRAM)
    tier.retired_on = today if retired else None
    session.flush()
    action = "tier.retired" if retired else "tier.reinstated"
    audit.record(session, actor, action, "tier", tier.id, program=tier.program.name, name=tier.name)


def delete_tier(session: Session, actor: Actor, tier: Tier) -> None:
    require(actor, Permission.EDIT_PROGRAM)
    held = session.scalar(select(func.count()).where(Membership.tier_id == tier.id))
    if held:
        raise InvalidInput(f"{tier.name} is held by {held} partner(s): retire it instead of deleting it")
    audit.record(session, actor, "tier.deleted", "tier", tier.id, program=tier.program.name, name=tier.name)
    tier.program.tiers.remove(tier)
    session.flush()
