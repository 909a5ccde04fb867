"""Programs and tiers are run from ecoops: created, edited, retired; one in use is never deleted."""

from datetime import date

import pytest
from sqlalchemy import select

from ecoops.accounts.service import InvalidInput, partner_user_actor, user_actor
from ecoops.actors import SYSTEM, Role
from ecoops.audit import AuditEvent
from ecoops.partners import programs
from ecoops.partners.models import Program, Tier
from ecoops.partners.programs import FieldError
from ecoops.permissions import Forbidden
from tests.factories import make_partner, make_partner_user, make_user

pytestmark = pytest.mark.all_backends
TODAY = date(2026, 6, 1)


def _actions(session):
    return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_a_partner_manager_creates_edits_and_extends_a_program(session, backend):
    manager = user_actor(make_user(session, Role.PARTNER_MANAGER))
    program = programs.create_program(session, manager, name="  Resell ", tiers=["Silver", "Gold"])
    assert (program.name, [(t.name, t.rank) for t in program.tiers]) == (
        "Resell",
        [("Silver", 0), ("Gold", 1)],
    )
    programs.update_program(session, manager, program, name="Resellers", description="for VARs")
    platinum = programs.add_tier(session, manager, program, name="Platinum")
    assert platinum.rank == 2  # above Gold, the top until now
    programs.update_tier(session, manager, platinum, name="Diamond", rank=5)
    session.refresh(program)
    assert (program.name, program.description) == ("Resellers", "for VARs")
    assert [t.name for t in program.tiers] == ["Silver", "Gold", "Diamond"]
    assert _actions(session)[-4:] == ["program.created", "program.updated", "tier.created", "tier.updated"]


@pytest.mark.parametrize(
    ("name", "tiers", "field"),
    [
        ("   ", ["Silver"], "name"),
        ("x" * 121, [], "name"),
        ("Fine", ["Silver", " "], "tiers"),
        ("Fine", ["Silver", "silver"], "tiers"),
        ("Fine", ["y" * 81], "tiers"),
    ],
)
def test_invalid_programs_are_refused_naming_the_field(session, name, tiers, field):
    with pytest.raises(FieldError) as caught:
        programs.create_program(session, SYSTEM, name=name, tiers=tiers)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")


def test_the_longest_names_allowed_are_accepted(session):
    program = programs.create_program(session, SYSTEM, name="x" * 120, tiers=["y" * 80])
    assert len(program.tiers[0].name) == 80


def test_a_tier_rank_runs_from_0_to_1000_and_a_page_sees_why_beyond(session):
    tier = programs.create_program(session, SYSTEM, name="Resell", tiers=["Silver"]).tiers[0]
    for rank in (0, 1000):
        programs.update_tier(session, SYSTEM, tier, name="Silver", rank=rank)
        assert tier.rank == rank
    for rank in (-1, 1001, 10**20):  # the page's form takes any integer: the service bounds it
        with pytest.raises(FieldError, match=f"rank: must be between 0 and 1000, not {rank}"):
            programs.update_tier(session, SYSTEM, tier, name="Silver", rank=rank)
    assert tier.rank == 1000


def test_duplicate_names_are_refused_whatever_their_case(session):
    resell = programs.create_program(session, SYSTEM, name="Resell", tiers=["Silver"])
    tech = programs.create_program(session, SYSTEM, name="Tech", tiers=[])
    with pytest.raises(FieldError, match="name: a program named 'RESELL' already exists"):
        programs.create_program(session, SYSTEM, name="RESELL", tiers=[])
    with pytest.raises(FieldError, match="already exists"):
        programs.update_program(session, SYSTEM, tech, name="resell", description="")
    programs.update_program(session, SYSTEM, resell, name="Resell", description="same name, itself")
    with pytest.raises(FieldError, match="Resell already has a tier named 'silver'"):
        programs.add_tier(session, SYSTEM, resell, name="silver")
    programs.create_program(session, SYSTEM, name="Ärzte", tiers=[])  # beyond ASCII, which SQL lower() misses
    for same in ("Ärzte", "ÄRZTE"):
        with pytest.raises(FieldError, match="already exists"):
            programs.create_program(session, SYSTEM, name=same, tiers=[])


def test_retiring_hides_from_pickers_and_keeps_the_partners_that_hold_it(session):
    program = programs.create_program(session, SYSTEM, name="Old", tiers=["Bronze"])
    partner = make_partner(session, tiers=[program.tiers[0]])
    programs.set_program_retired(session, SYSTEM, program, retired=True, today=TODAY)
    assert program.retired_on == TODAY
    assert program not in programs.list_programs(session, SYSTEM, active_only=True)
    assert program in programs.list_programs(session, SYSTEM)
    session.refresh(partner)
    assert [m.tier.name for m in partner.memberships] == ["Bronze"]
    with pytest.raises(InvalidInput, match="retired"):
        make_partner(session, tiers=[program.tiers[0]])
    programs.set_program_retired(session, SYSTEM, program, retired=False, today=TODAY)
    assert program in programs.list_programs(session, SYSTEM, active_only=True)


def test_a_retired_tier_leaves_the_active_tiers_only(session):
    program = programs.create_program(session, SYSTEM, name="P", tiers=["Silver", "Gold"])
    silver = program.tiers[0]
    programs.set_tier_retired(session, SYSTEM, silver, retired=True, today=TODAY)
    assert [t.name for t in program.active_tiers] == ["Gold"]
    assert [t.name for t in program.tiers] == ["Silver", "Gold"]


def test_in_use_programs_and_tiers_cannot_be_deleted_unused_ones_can(session):
    program = programs.create_program(session, SYSTEM, name="Used", tiers=["Silver", "Gold"])
    silver, gold = program.tiers
    make_partner(session, tiers=[silver])
    with pytest.raises(InvalidInput, match="Used is held by 1 partner"):
        programs.delete_program(session, SYSTEM, program)
    with pytest.raises(InvalidInput, match="Silver is held by 1 partner"):
        programs.delete_tier(session, SYSTEM, silver)
    programs.delete_tier(session, SYSTEM, gold)
    assert session.scalars(select(Tier.name).where(Tier.program_id == program.id)).all() == ["Silver"]
    unused = programs.create_program(session, SYSTEM, name="Unused", tiers=["A"])
    programs.delete_program(session, SYSTEM, unused)
    assert session.scalar(select(Program).where(Program.name == "Unused")) is None
    assert {"tier.deleted", "program.deleted"} <= set(_actions(session))


@pytest.mark.parametrize("role", [Role.SALES, Role.VIEWER])
def test_readers_may_not_change_programs(session, role):
    reader = user_actor(make_user(session, role))
    program = programs.create_program(session, SYSTEM, name="P", tiers=["Silver"])
    assert programs.list_programs(session, reader) == [program]
    with pytest.raises(Forbidden):
        programs.create_program(session, reader, name="Q", tiers=[])
    with pytest.raises(Forbidden):
        programs.set_program_retired(session, reader, program, retired=True, today=TODAY)


def test_partner_users_may_not_even_read_programs(session):
    partner = make_partner(session)
    actor = partner_user_actor(make_partner_user(session, partner))
    with pytest.raises(Forbidden):
        programs.list_programs(session, actor)
