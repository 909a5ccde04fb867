"""Which tier a partner held in each program, and when: its membership read back through its tier changes.

A tier change is a line of the partner's history (PartnerChange, field "tier") naming the places as
people read them, "Program · Tier". From the tier held today, each change read backwards gives the tier
held before it (its old value) and the day it ended (the change's date: from that day on the new tier is
held). A name that no longer resolves to a tier of the program (a tier renamed or deleted since) is held
as "no tier" for its period; a program renamed since loses its history (its current tier is then taken
for all dates, as before tier history was read).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.partners.models import Membership, PartnerChange, Program, Tier

SEPARATOR = " · "  # as editing.place writes a place


@dataclass(frozen=True)
class Held:
    """`partner_id` held `tier_id` (None: no tier) in `program_id` from `since` (None: always) until the day
    before `until` (None: still)."""

    partner_id: int
    program_id: int
    tier_id: int | None
    since: date | None
    until: date | None


def held_periods(
    membership: tuple[int, int, int | None],
    program: str,
    tiers: dict[str, int],
    changes: list[tuple[date, str, str]],
) -> list[Held]:
    """The periods of one membership (partner id, program id, tier id today), newest first.

    `program` is the program's name, `tiers` its tiers' ids by name, `changes` the partner's tier changes
    as (date, old value, new value) in the order they happened."""
    partner_id, program_id, tier_id = membership
    prefix = program + SEPARATOR
    periods: list[Held] = []
    held, until = tier_id, None
    for changed_on, old, new in reversed(changes):
        if not (new.startswith(prefix) or old.startswith(prefix)):
            continue  # another program's
        if until is None or changed_on < until:
            periods.append(Held(partner_id, program_id, held, changed_on, until))
        held, until = tiers.get(old.removeprefix(prefix)) if old.startswith(prefix) else None, changed_on
    periods.append(Held(partner_id, program_id, held, None, until))
    return periods


def tiers_held(session: Session) -> list[Held]:
    """Every membership's periods, each with the tier held then."""
    programs = {p.id: p.name for p in session.scalars(select(Program))}
    tiers: dict[int, dict[str, int]] = defaultdict(dict)
    for tier in session.scalars(select(Tier)):
        tiers[tier.program_id][tier.name] = tier.id
    changes: dict[int, list[tuple[date, str, str]]] = defaultdict(list)
    for partner_id, changed_on, old, new in session.execute(
        select(
            PartnerChange.partner_id,
            PartnerChange.changed_on,
            PartnerChange.old_value,
            PartnerChange.new_value,
        )
        .where(PartnerChange.field == "tier")
        .order_by(PartnerChange.changed_on, PartnerChange.id)
    ):
        changes[partner_id].append((changed_on, old, new))
    return [
        period
        for partner_id, program_id, tier_id in session.execute(
            select(Membership.partner_id, Membership.program_id, Membership.tier_id)
        )
        for period in held_periods(
            (partner_id, program_id, tier_id), programs[program_id], tiers[program_id], changes[partner_id]
        )
    ]
