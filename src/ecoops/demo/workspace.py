"""Seeding the whole demo workspace in the caller's transaction, and emptying a database to seed it afresh.

Every generator draws from its own `random.Random` stream derived from the seed, so the same seed and
as-of date give the same workspace, and changing one generator does not reshuffle the others.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import Engine, MetaData, exists, insert, or_, select
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.actors import Actor
from ecoops.attribution.models import PartnerTouch
from ecoops.crm.models import Account, Opportunity, OpportunityStageChange
from ecoops.demo.companies import CompanyGenerator, surname_pools
from ecoops.demo.crm_history import (
    account_rows,
    number_accounts,
    opportunity_rows,
    simulate_accounts,
    simulate_opportunities,
    stage_change_rows,
)
from ecoops.demo.nurture import seed_nurture
from ecoops.demo.onboarding import seed_onboarding
from ecoops.demo.partner_exports import PartnerExport, build_partner_exports, exporting_partners
from ecoops.demo.people import STAFF, create_partner_admins, create_staff
from ecoops.demo.program import create_program
from ecoops.demo.touches import simulate_touches
from ecoops.partners.models import Partner

STEPS = ("Staff", "Partner program", "Accounts", "Opportunities", "Partner touches", "Partner lists")
DEFAULT_ACCOUNTS = 5000


@dataclass(frozen=True)
class SeededWorkspace:
    counts: dict[str, int]
    exports: list[PartnerExport]  # written by the caller once the transaction has committed


def has_data(session: Session) -> bool:
    """Whether partners or CRM records exist: demo records must never mix with a real workspace's."""
    return bool(session.scalar(select(or_(exists(Partner.id), exists(Account.id), exists(Opportunity.id)))))


def seed_workspace(
    session: Session,
    actor: Actor,
    *,
    seed: int,
    as_of: date,
    account_count: int = DEFAULT_ACCOUNTS,
    currency: str = "USD",
    on_step: Callable[[str], None] = lambda _step: None,
) -> SeededWorkspace:
    """Seed staff, partner program, CRM history and touches into an empty workspace; build partner lists."""

    def stream(name: str) -> random.Random:
        return random.Random(f"{seed}:{name}")

    on_step(STEPS[0])
    staff = create_staff(session, actor)
    on_step(STEPS[1])
    surnames = surname_pools(seed)
    companies = CompanyGenerator(stream("companies"), surnames)
    partners = create_program(
        session,
        actor,
        rng=stream("program"),
        companies=companies,
        partner_manager_ids=staff.partner_manager_ids,
        as_of=as_of,
    )
    # Portal users for partners that also share an account list, so the portal has something to show.
    create_partner_admins(session, actor, [(p.id, p.domain) for p in exporting_partners(partners)])
    on_step(STEPS[2])
    accounts = simulate_accounts(stream("accounts"), companies, account_count, staff.account_executives)
    on_step(STEPS[3])
    opportunities = simulate_opportunities(stream("opportunities"), accounts, partners, as_of)
    number_accounts(stream("account-dates"), accounts, opportunities, as_of)
    stage_changes = stage_change_rows(opportunities)
    session.execute(insert(Account), account_rows(accounts))
    session.execute(insert(Opportunity), opportunity_rows(opportunities, currency))
    session.execute(insert(OpportunityStageChange), stage_changes)
    on_step(STEPS[4])
    touches = simulate_touches(stream("touches"), opportunities, partners, as_of)
    session.execute(insert(PartnerTouch), touches.rows)
    on_step(STEPS[5])
    exports = build_partner_exports(stream("partner-lists"), surnames, partners, accounts, touches.rows)
    counts = {
        "staff users": len(STAFF),
        "partners": len(partners),
        "accounts": len(accounts),
        "opportunities": len(opportunities),
        "open opportunities": sum(not o.is_closed for o in opportunities),
        "won opportunities": sum(o.is_won for o in opportunities),
        "stage changes": len(stage_changes),
        "partner touches": len(touches.rows),
        "referrals and registrations": touches.referrals,
        "partner lists": len(exports),
    }
    counts["nurture sequences"] = seed_nurture(session, actor)
    counts["partner applications"], approved = seed_onboarding(session, actor, as_of)
    counts["partners"] += approved
    # The users, programs and partners above carry their own audit rows; the bulk records, this one.
    audit.record(
        session, actor, "demo.seeded", "workspace", seed=seed, as_of=as_of.isoformat(), counts=counts
    )
    session.flush()
    return SeededWorkspace(counts, exports)


def reset_database(engine: Engine) -> None:
    """Start from nothing: delete a SQLite file (with its WAL), or drop every table in a PostgreSQL schema."""
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        engine.dispose()
        if database and database != ":memory:":
            for suffix in ("", "-wal", "-shm"):
                Path(database + suffix).unlink(missing_ok=True)
        return
    tables = MetaData()
    tables.reflect(engine)
    tables.drop_all(engine)
