"""What of ours enters an exchange, per mode, from the sharing rules (hand-worked on four accounts)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session
from tests.factories import make_account, make_opportunity, make_partner

from ecoops.actors import SYSTEM
from ecoops.mapping import company_links
from ecoops.mapping.models import SharingLevel
from ecoops.mapping.sharing import Rule, set_rules
from ecoops.psi.items import ID_SEPARATOR, LABEL_SEPARATOR, our_side, pseudonym

REF_KEY = "ab" * 32


def _workspace(session: Session) -> int:
    partner = make_partner(session)
    make_account(session, crm_id="C1", name="Acme GmbH", domain="acme.de", country="DE", owner="Ana")
    make_account(session, crm_id="C2", name="Globex", domain="", country="", owner="Bo")  # name, no country
    make_account(session, crm_id="P1", name="Initech", domain="initech.io", country="US")  # a prospect
    make_account(session, crm_id="C3", name="Umbrella", domain="umbrella-old.com", country="GB")
    for crm_id in ("C1", "C2", "C3"):
        make_opportunity(
            session, account_crm_id=crm_id, is_closed=True, is_won=True, close_date=date(2025, 1, 1)
        )
    make_opportunity(session, account_crm_id="C1", is_closed=False, is_won=False)  # C1 also has an open deal
    company_links.add_domain_alias(session, SYSTEM, alias="umbrella-old.com", domain="umbrella.com")
    set_rules(
        session,
        SYSTEM,
        partner.id,
        {
            "customers": Rule(SharingLevel.OVERLAPPING, ("name",)),
            "open_opportunities": Rule(SharingLevel.COUNTS, ("owner",)),
            "prospects": Rule(SharingLevel.HIDDEN),
        },
    )
    return partner.id


def test_counts_mode_takes_every_population_the_partner_may_see_once_per_account(session: Session) -> None:
    side = our_side(session, _workspace(session), REF_KEY, "count")
    both = LABEL_SEPARATOR.join(["Customers", "Open Opportunities"])
    assert sorted((i.record_id, i.keys, i.population, i.fields) for i in side.items) == [
        ("C1", ("d:acme.de", "n:acme|DE"), both, {}),
        ("C2", ("n:globex|",), "Customers", {}),
        ("C3", ("d:umbrella.com", "n:umbrella|GB"), "Customers", {}),  # after the workspace's alias
    ]  # P1 is only a prospect: hidden, absent
    assert side.population_keys["Open Opportunities"] == "open_opportunities"


def test_reveal_mode_takes_only_overlapping_populations_with_their_fields(session: Session) -> None:
    side = our_side(session, _workspace(session), REF_KEY, "reveal")
    assert sorted((i.record_id, i.keys, i.population, i.fields) for i in side.items) == [
        (
            f"C1{ID_SEPARATOR}d",
            ("d:acme.de",),
            "Customers",
            {"ref": pseudonym(REF_KEY, "C1"), "name": "Acme GmbH"},
        ),
        (
            f"C1{ID_SEPARATOR}n",
            ("n:acme|DE",),
            "Customers",
            {"ref": pseudonym(REF_KEY, "C1"), "name": "Acme GmbH"},
        ),
        (
            f"C2{ID_SEPARATOR}n",
            ("n:globex|",),
            "Customers",
            {"ref": pseudonym(REF_KEY, "C2"), "name": "Globex"},
        ),
        (
            f"C3{ID_SEPARATOR}d",
            ("d:umbrella.com",),
            "Customers",
            {"ref": pseudonym(REF_KEY, "C3"), "name": "Umbrella"},
        ),
        (
            f"C3{ID_SEPARATOR}n",
            ("n:umbrella|GB",),
            "Customers",
            {"ref": pseudonym(REF_KEY, "C3"), "name": "Umbrella"},
        ),
    ]  # C1's open deal is counts only: not its label here, and its owner is never released
    assert pseudonym(REF_KEY, "C1") != pseudonym("cd" * 32, "C1") and "C1" not in pseudonym(REF_KEY, "C1")
