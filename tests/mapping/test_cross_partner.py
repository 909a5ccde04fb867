"""Across partners: accounts that the most partners have, and the co-sell list per account owner."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ecoops.actors import SYSTEM, Role
from ecoops.mapping import cross_partner, runs, uploads
from tests.factories import make_partner, make_user, sign_in
from tests.mapping.test_mapping_runs import PARTNER_ROWS, our_accounts, write


def two_partners(session: Session, tmp_path: Path) -> None:
    """Northwind has Acme, Globex, Initech and Umbrella; Contoso has Globex (a customer) and Umbrella."""
    our_accounts(session)
    north, contoso = make_partner(session, name="Northwind"), make_partner(session, name="Contoso")
    uploads.upload_partner_list(session, SYSTEM, north.id, write(tmp_path, PARTNER_ROWS, "n.csv"), "n.csv")
    rows = ["C1,Globex,globex.com,US,Customers,", "C2,Umbrella,umbrella.com,US,Prospects,"]
    uploads.upload_partner_list(session, SYSTEM, contoso.id, write(tmp_path, rows, "c.csv"), "c.csv")
    runs.run_all(session, SYSTEM)


@pytest.mark.all_backends
def test_most_shared_and_co_sell(session: Session, tmp_path: Path) -> None:
    two_partners(session, tmp_path)
    top = cross_partner.most_shared_accounts(session, SYSTEM, limit=3)
    assert [(a.crm_id, len(a.partners)) for a in top] == [("A2", 2), ("A4", 2), ("A1", 1)]
    assert top[0].partners == [("Contoso", "Customers"), ("Northwind", "Customers")]

    lists = cross_partner.co_sell_list(session, SYSTEM)
    assert {owner: [(a.crm_id, a.open_amount) for a in accounts] for owner, accounts in lists.items()} == {
        "": [("A4", Decimal(700))],
        "Pete": [("A2", Decimal(5000))],
    }
    assert list(cross_partner.co_sell_list(session, SYSTEM, owner="Pete")) == ["Pete"]


def test_pages(client: TestClient, session: Session, tmp_path: Path) -> None:
    two_partners(session, tmp_path)
    user = make_user(session, Role.SALES)
    session.flush()
    sign_in(client, user.email)
    assert "Contoso (Customers), Northwind (Customers)" in client.get("/mapping/shared-accounts").text
    co_sell = client.get("/mapping/co-sell", params={"owner": "Pete"}).text
    assert "Globex" in co_sell and "Umbrella" not in co_sell
