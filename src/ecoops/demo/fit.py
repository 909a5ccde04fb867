"""The demo's recruiting list: each candidate (a partner in the prospect or recruiting stage) shares an
account list, mapped against our populations with the partner-list mapping like any partner's, and a
head count and integration status recorded for candidates and technology partners, so the recruiting
list ranks candidates with reasons of every kind."""

from __future__ import annotations

import random
import tempfile
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.actors import Actor
from ecoops.crm.models import Account
from ecoops.fit import service
from ecoops.fit.service import CANDIDATE_STAGES
from ecoops.mapping import runs, uploads
from ecoops.mapping.populations import CUSTOMERS, OPEN_OPPORTUNITIES, PROSPECTS, memberships
from ecoops.maturity.models import IntegrationStatus
from ecoops.partners.models import Partner, PartnerType

HEADER = "Account ID,Account Name,Website,Billing Country,Population\n"
SIZES = (8, 40, 120, 350, 900, 2400, 7000)


def _list(
    rng: random.Random, members: dict[str, set[str]], accounts: dict[str, Account], reach: float
) -> str:
    """A candidate's export: a share (`reach`) of our customers, open-opportunity accounts and prospects,
    labelled as their own customers or prospects, and companies we do not know."""
    rows = []
    for key in (CUSTOMERS, OPEN_OPPORTUNITIES, PROSPECTS):
        pool = sorted(members.get(key, set()))
        picked = rng.sample(pool, min(len(pool), int(len(pool) * reach * rng.uniform(0.02, 0.08))))
        for crm_id in picked:
            account = accounts[crm_id]
            label = "Customers" if rng.random() < 0.7 else "Prospects"
            rows.append((account.name, account.domain or "", account.country or "", label))
    rows += [
        (f"Unknown {n}", f"unknown-{rng.randrange(10**9)}.example", "US", "Customers") for n in range(40)
    ]
    lines = (
        f"C{n},{name},{domain},{country},{label}" for n, (name, domain, country, label) in enumerate(rows)
    )
    return HEADER + "\n".join(lines) + "\n"


def seed_fit(session: Session, actor: Actor, seed: int, today: date) -> int:
    """Lists for the candidates and profiles for candidates and technology partners; how many candidates."""
    rng = random.Random(f"{seed}-fit")
    candidates = list(
        session.scalars(select(Partner).where(Partner.stage.in_(CANDIDATE_STAGES)).order_by(Partner.id))
    )
    members = memberships(session)
    wanted = set().union(*members.values())
    accounts = {a.crm_id: a for a in session.scalars(select(Account).where(Account.crm_id.in_(wanted)))}
    statuses = [*IntegrationStatus, ""]
    with tempfile.TemporaryDirectory(prefix="ecoops-demo-fit-") as folder:
        for partner in candidates:
            path = Path(folder) / f"candidate-{partner.id}.csv"
            path.write_text(_list(rng, members, accounts, rng.uniform(0.2, 1.0)), encoding="utf-8")
            uploads.upload_partner_list(session, actor, partner.id, path, f"{partner.name} accounts.csv")
            runs.run_mapping(session, actor, partner.id, today=today)
    technology = (
        select(Partner).where(Partner.partner_type == PartnerType.TECHNOLOGY.value).order_by(Partner.id)
    )
    for partner in [*candidates, *session.scalars(technology)]:
        status = rng.choice(statuses) if partner.partner_type == PartnerType.TECHNOLOGY else ""
        service.set_profile(
            session, actor, partner.id, employees=str(rng.choice(SIZES)), integration_status=status
        )
    return len(candidates)
