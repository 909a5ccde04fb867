"""The demo's program costs and report packs: a year of monthly people and tools costs, commissions
and partner funds taken from the commission ledger month by month, and two report pack schedules (a
monthly one for leadership, a weekly one for finance), so the ROI dashboard and the reports page open
with figures."""

from __future__ import annotations

import random
from datetime import date

from sqlalchemy.orm import Session

from ecoops.actors import Actor
from ecoops.demo.people import EMAIL_DOMAIN
from ecoops.reports import packs
from ecoops.roi import service

PEOPLE, TOOLS = 42_000, 3_500  # a month's partner team and its software, before a little noise
MONTHS = 12


def _months(today: date) -> list[date]:
    first, found = today.replace(day=1), []
    for back in range(MONTHS - 1, -1, -1):
        index = first.year * 12 + first.month - 1 - back
        found.append(date(index // 12, index % 12 + 1, 1))
    return found


def seed_roi(session: Session, actor: Actor, seed: int, today: date) -> int:
    """Costs for the twelve months up to `today`'s and two report pack schedules; how many cost rows."""
    rng = random.Random(f"{seed}-roi")
    rows = 0
    for month in _months(today):
        for category, base, note in (
            ("people", PEOPLE, "partner team salaries"),
            ("tools", TOOLS, "PRM and mapping tools"),
        ):
            amount = round(base * rng.uniform(0.95, 1.1), -2)
            service.add_cost(session, actor, spent_on=month, category=category, amount=str(amount), note=note)
            rows += 1
        rows += sum(1 for amount in service.take_from_ledger(session, actor, month).values() if amount)
    packs.create_schedule(
        session,
        actor,
        name="Leadership monthly",
        audience="leadership",
        cadence="monthly",
        recipients=f"admin@{EMAIL_DOMAIN}, partners@{EMAIL_DOMAIN}",
    )
    packs.create_schedule(
        session,
        actor,
        name="Finance weekly",
        audience="finance",
        cadence="weekly",
        recipients=f"ops@{EMAIL_DOMAIN}",
    )
    return rows
