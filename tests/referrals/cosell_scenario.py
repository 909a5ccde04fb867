"""A small co-sell scenario worked by hand: our accounts of tests/mapping/test_mapping_runs.py, a partner
whose list has Acme (their Customers, rep Ann), Globex (Customers, rep Bob) and Initech (Prospects, rep Cy),
two active contacts and an inactive one, and a seller."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from ecoops.accounts.models import PartnerUser, User
from ecoops.accounts.service import partner_user_actor, set_active, user_actor
from ecoops.actors import SYSTEM, Actor, Role
from ecoops.mapping import runs, uploads
from ecoops.partners.models import Partner
from tests.factories import make_partner, make_partner_user, make_user
from tests.mapping.test_mapping_runs import PARTNER_ROWS, our_accounts, write


@dataclass(frozen=True)
class CoSell:
    partner: Partner
    other: Partner  # a partner that is not asked
    seller: User
    contacts: tuple[PartnerUser, PartnerUser]

    @property
    def seller_actor(self) -> Actor:
        return user_actor(self.seller)

    @property
    def contact_actor(self) -> Actor:
        return partner_user_actor(self.contacts[0])


def co_sell_scenario(session: Session, tmp_path: Path) -> CoSell:
    our_accounts(session)
    partner = make_partner(session, name="Northwind")
    other = make_partner(session, name="Contoso")
    uploads.upload_partner_list(session, SYSTEM, partner.id, write(tmp_path, PARTNER_ROWS[:3]), "nw.csv")
    runs.run_mapping(session, SYSTEM, partner.id)
    contacts = (
        make_partner_user(session, partner, email="ann@northwind.example", name="Ann North"),
        make_partner_user(session, partner, email="nick@northwind.example", name="Nick North"),
    )
    gone = make_partner_user(session, partner, email="gone@northwind.example")
    set_active(session, SYSTEM, PartnerUser, gone.id, active=False)
    make_partner_user(session, other, email="carl@contoso.example")
    seller = make_user(session, Role.SALES, name="Sam Seller", email="sam@example.com")
    session.flush()
    return CoSell(partner, other, seller, contacts)
