"""A second demo instance, for one of the demo's partners, connected to the demo for private mapping.

The partner is the first whose account list the demo mapped (Mapleware for seed 7). Its instance's CRM
is that list: the rows of its export under the demo's var dir, so the two instances overlap exactly as
the demo's match-truth file says (less the pairs whose names or websites the partner's CRM spells
differently, which exact keys cannot find: docs/private-mapping.md, "Limits"). Customers get a won
deal and open opportunities an open one, so the built-in populations hold them.

The connection is made as two people would on their Private mapping pages: the demo creates an
invitation and the partner's instance redeems its code (which calls the demo's /psi/v1/connect), here
by writing to both databases from one command, so the demo must be serving.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ecoops import audit
from ecoops.accounts import service as accounts
from ecoops.actors import Actor, Role
from ecoops.config import Settings
from ecoops.crm.imports.domains import account_domain
from ecoops.crm.models import Account, Opportunity
from ecoops.db import transaction
from ecoops.demo.companies import slug_words
from ecoops.demo.mapping import SHARING_RULES
from ecoops.demo.partner_exports import EXPORTS_FOLDER
from ecoops.demo.people import COMPANY_NAME, DEMO_PASSWORD, EMAIL_DOMAIN
from ecoops.mapping.models import PartnerUpload, SharingLevel
from ecoops.mapping.sharing import Rule, set_rules
from ecoops.partners import service as partners
from ecoops.partners.models import Partner
from ecoops.psi import connections
from ecoops.psi.models import ConnectionState

# What each side shows the other (Mapping → partner → Sharing): the demo shows this partner what it shows
# its portal partners (customers revealed with their name and country, the rest counted); the partner
# reveals its customers and open opportunities where both sides reveal them.
DEMO_RULES = SHARING_RULES
PARTNER_RULES = {
    "customers": Rule(SharingLevel.OVERLAPPING, ("name", "country")),
    "open_opportunities": Rule(SharingLevel.OVERLAPPING, ("name",)),
    "prospects": Rule(SharingLevel.HIDDEN),
}


@dataclass(frozen=True)
class SharedList:
    """The demo partner the second instance stands for, and the account list it shared with the demo."""

    partner_id: int  # in the demo's workspace
    name: str
    path: Path

    @property
    def email_domain(self) -> str:
        return "".join(slug_words(self.name)) + ".example"


def first_shared_list(demo: Session, demo_var_dir: Path) -> SharedList | None:
    """The first partner list the demo mapped, if it was seeded."""
    upload = demo.scalars(select(PartnerUpload).order_by(PartnerUpload.id)).first()
    if upload is None:
        return None
    path = demo_var_dir / "demo" / EXPORTS_FOLDER / upload.filename
    partner = demo.get(Partner, upload.partner_id)
    return SharedList(partner.id, partner.name, path) if partner is not None and path.exists() else None


def read_list(path: Path) -> list[tuple[str, str, str, str, str]]:
    """(record id, name, website, country, population) of each row, Salesforce report or HubSpot export."""
    with path.open(newline="", encoding="utf-8") as file:
        rows = list(csv.reader(file))
    return [(row[0], row[1], row[2], row[3], row[4]) for row in rows[1:]]


def partner_users(listed: SharedList) -> list[tuple[str, Role]]:
    return [
        (f"admin@{listed.email_domain}", Role.ADMIN),
        (f"partners@{listed.email_domain}", Role.PARTNER_MANAGER),
    ]


def seed_partner_workspace(session: Session, actor: Actor, listed: SharedList, today: date) -> int:
    """The partner's workspace: its users, its CRM (the shared list) and the demo company as a partner.

    Returns the id of the demo company's partner record.
    """
    for email, role in partner_users(listed):
        accounts.create_user(session, actor, email=email, name=email, role=role, password=DEMO_PASSWORD)
    company = partners.create_partner(
        session,
        actor,
        name=COMPANY_NAME,
        partner_type="technology",
        stage="active",
        stage_since=today - timedelta(days=365),
        domains=[EMAIL_DOMAIN],
    )
    rows = read_list(listed.path)
    for record_id, name, website, country, population in rows:
        session.add(
            Account(
                crm_id=record_id,
                name=name,
                website=website,
                domain=account_domain("", website),
                country=country,
                owner=f"partners@{listed.email_domain}",
            )
        )
        if population in ("Customers", "Open Opportunities"):
            won = population == "Customers"
            session.add(
                Opportunity(
                    crm_id=f"{record_id}-{'WON' if won else 'OPEN'}",
                    name=f"{name} {'licence' if won else 'expansion'}",
                    account_crm_id=record_id,
                    stage="Closed Won" if won else "Proposal",
                    amount=Decimal("12000.00"),
                    created_on=today - timedelta(days=120),
                    close_date=today - timedelta(days=30) if won else today + timedelta(days=60),
                    is_closed=won,
                    is_won=won,
                )
            )
    session.flush()
    set_rules(session, actor, company.id, PARTNER_RULES)
    audit.record(session, actor, "demo.partner_seeded", "partner", company.id, accounts=len(rows))
    return company.id


@dataclass(frozen=True)
class Side:
    """One instance, as this command reaches it: its database, settings, and the other company's record."""

    sessions: sessionmaker[Session]
    settings: Settings
    partner_id: int


def connect(actor: Actor, demo: Side, partner: Side) -> bool:
    """Connect the two instances (the demo invites, the partner redeems); False when already connected.

    The demo must be serving: redeeming calls its /psi/v1/connect.
    """
    with partner.sessions() as session:
        current = connections.current_connection(session, partner.partner_id)
        if current is not None and current.state == ConnectionState.ACTIVE:
            return False
    with transaction(demo.sessions) as session:
        current = connections.current_connection(session, demo.partner_id)
        if current is not None and current.state == ConnectionState.ACTIVE:  # its partner was reset
            connections.revoke(session, actor, demo.settings, demo.partner_id)
        set_rules(session, actor, demo.partner_id, DEMO_RULES)
        _, code = connections.create_invitation(
            session, actor, demo.settings, demo.partner_id, interval_hours=0
        )
    with transaction(partner.sessions) as session:
        connections.redeem(session, actor, partner.settings, partner.partner_id, code, interval_hours=0)
    return True
