"""A seller's home: the co-sell list of the accounts they own, each linked to its page, with whom to ask,
and the referrals handed to them."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from ecoops.actors import SYSTEM, Role
from ecoops.crm.models import Account
from ecoops.mapping import runs, uploads
from ecoops.referrals.models import Direction, Kind, Referral, Status, Via
from tests.factories import make_opportunity, make_partner, make_user, sign_in
from tests.mapping.test_mapping_runs import PARTNER_ROWS, our_accounts, write


def test_a_seller_lands_on_the_open_accounts_they_own_that_partners_have(client, session, tmp_path: Path):
    our_accounts(session)  # Globex (Pete) has an open deal; Acme (Olga) a won one, given an open one here
    make_opportunity(session, crm_id="O1-OPEN", account_crm_id="A1", amount=900)
    partner = make_partner(session, name="Northwind")
    uploads.upload_partner_list(session, SYSTEM, partner.id, write(tmp_path, PARTNER_ROWS[:3]), "nw.csv")
    runs.run_mapping(session, SYSTEM, partner.id)
    make_user(session, Role.SALES, name="Pete", email="pete@example.com")
    make_user(session, Role.PARTNER_MANAGER, name="Olga", email="olga@example.com")
    session.flush()
    ids = {crm_id: account_id for crm_id, account_id in session.execute(select(Account.crm_id, Account.id))}

    sign_in(client, "pete@example.com")
    landing = client.get("/")
    assert landing.status_code == 303
    assert urlsplit(landing.headers["location"]).path == "/mapping/co-sell"
    assert parse_qs(urlsplit(landing.headers["location"]).query) == {"owner": ["Pete"]}
    home = client.get(landing.headers["location"]).text
    assert accounts_listed(home) == [(f"/accounts/{ids['A2']}", "Globex")]  # not Olga's Acme
    assert f'href="/mapping/partners/{partner.id}/co-sell/A2"' in home
    assert "/co-sell/A1" not in home

    # A partner manager lands on their partners (tests/partners/test_manager_home.py); cleared, the
    # filter shows every owner's.
    client.cookies.clear()
    sign_in(client, "olga@example.com")
    assert client.get("/").headers["location"] == "/home/partners"
    every = client.get("/mapping/co-sell", params={"owner": ""}).text
    assert sorted(name for _, name in accounts_listed(every)) == ["Acme", "Globex"]


def accounts_listed(html: str) -> list[tuple[str, str]]:
    """(link, name) of each row's account, in the page's order."""
    return re.findall(r'<tr><td><a href="(/accounts/\d+)">([^<]+)</a>', html)


def test_a_sellers_home_lists_the_referrals_handed_to_them(client, session):
    """Pete has two referrals handed to him (Initech newest) and Sam one: Pete's home lists his two."""
    partner = make_partner(session, name="Northwind")
    pete = make_user(session, Role.SALES, name="Pete", email="pete@example.com")
    sam = make_user(session, Role.SALES, name="Sam", email="sam@example.com")
    for company, seller, day in (("Acme", pete, 1), ("Initech", pete, 2), ("Hooli", sam, 3)):
        session.add(
            Referral(
                direction=Direction.INBOUND.value,
                kind=Kind.EQL.value,
                partner_id=partner.id,
                company=company,
                status=Status.APPROVED.value,
                submitted_via=Via.PORTAL.value,
                submitted_at=datetime(2025, 3, day, 12, tzinfo=UTC),
                assigned_seller_id=seller.id,
            )
        )
    session.flush()
    sign_in(client, "pete@example.com")
    home = client.get(client.get("/").headers["location"]).text
    section = home[home.index('id="my-referrals"') :]
    assert "2 in all" in section
    assert re.findall(r'<a href="/referrals/\d+">([^<]+)</a>', section) == ["Initech", "Acme"]
    assert "Hooli" not in home
