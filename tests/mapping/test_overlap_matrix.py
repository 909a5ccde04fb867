"""The overlap matrix people read at a glance: counts with the share of each population, open pipeline
and heat per cell, owner and segment filters, and cells that open exactly the accounts they count.

The scenario is small enough to work out by hand (below); the counts are also recomputed from the
seeded rows by a plain loop, independent of the code under test, and compared cell by cell with the
matrix and with the rows of each cell's page.
"""

from __future__ import annotations

import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.actors import SYSTEM, Role
from ecoops.crm.models import Account
from ecoops.crm.segments import Segment
from ecoops.mapping import runs, sharing, uploads
from ecoops.mapping.models import SharingLevel
from ecoops.mapping.overlaps import AccountFilter, by_account, cell_accounts, overlap_matrix, percent
from ecoops.partners.models import Partner
from tests.factories import (
    bearer,
    make_account,
    make_opportunity,
    make_partner,
    make_partner_user,
    make_user,
    sign_in,
)
from tests.web.page_forms import get_forms

HEADER = "Account ID,Account Name,Website,Billing Country,Population\n"
# (their id, name, domain, population); Acme is in the partner's list twice (two records, one company).
THEIRS = [
    ("P1", "Acme Inc", "acme.com", "Customers"),
    ("P1b", "Acme Europe", "acme.com", "Customers"),
    ("P2", "Globex", "globex.com", "Customers"),
    ("P3", "Initech", "initech.com", "Prospects"),
    ("P4", "Umbrella Corp", "umbrella.com", "Customers"),
    ("P7", "Other Co", "other.com", "Customers"),  # none of ours
    ("P8", "Zeta", "zeta.com", ""),  # no population
]
# (crm id, name, domain, owner, employees, our populations); the populations follow from the deals
# made in `seed`: won → customers, open → open_opportunities, neither → prospects.
OURS = [
    ("A1", "Acme", "acme.com", "Olga", 50, {"customers"}),
    ("A2", "Globex", "globex.com", "Pete", 500, {"open_opportunities"}),
    ("A3", "Initech", "initech.com", "Olga", None, {"prospects"}),
    ("A4", "Umbrella", "umbrella.com", "Pete", 3000, {"customers", "open_opportunities"}),
    ("A5", "Hooli", "hooli.com", "Olga", 150, {"prospects"}),
    ("A6", "Stark", "stark.com", "Olga", 2500, {"customers"}),
    ("A7", "Zeta", "zeta.com", "Pete", 20, {"prospects"}),
]
OPEN_AMOUNT = {"A2": Decimal(5000), "A4": Decimal(1000)}  # A4: two open deals, 700 + 300


def seed(session: Session, tmp_path: Path) -> Partner:
    for crm_id, name, domain, owner, employees, _ in OURS:
        make_account(
            session, crm_id=crm_id, name=name, domain=domain, country="US", owner=owner, employees=employees
        )
    for crm_id in ("A1", "A6"):
        make_opportunity(session, account_crm_id=crm_id, is_closed=True, is_won=True, amount=9999)
    make_opportunity(session, account_crm_id="A2", amount=5000)
    make_opportunity(session, account_crm_id="A4", amount=700)
    make_opportunity(session, account_crm_id="A4", amount=300)
    make_opportunity(session, account_crm_id="A4", is_closed=True, is_won=True, amount=1)
    partner = make_partner(session, name="Northwind")
    path = tmp_path / "northwind.csv"
    path.write_text(HEADER + "".join(f"{i},{n},{d},US,{p}\n" for i, n, d, p in THEIRS), encoding="utf-8")
    uploads.upload_partner_list(session, SYSTEM, partner.id, path, "northwind.csv")
    runs.run_mapping(session, SYSTEM, partner.id)
    session.flush()
    return partner


def seed_and_sign_in(client: TestClient, session: Session, tmp_path: Path, role: Role) -> Partner:
    partner = seed(session, tmp_path)
    sign_in(client, make_user(session, role).email)
    session.flush()
    return partner


def expected_counts(only: AccountFilter = AccountFilter()) -> dict[tuple[str, str], int]:
    """Our distinct accounts per (our population, their population), straight from the seeded rows:
    a partner record matches our account on the same domain."""
    ours_by_domain = {
        domain: (crm_id, owner, employees, pops) for crm_id, _, domain, owner, employees, pops in OURS
    }
    cells: dict[tuple[str, str], set[str]] = defaultdict(set)
    for _, _, domain, population in THEIRS:
        if domain not in ours_by_domain:
            continue
        crm_id, owner, employees, pops = ours_by_domain[domain]
        if only.keeps(owner, employees):
            for key in pops:
                cells[(key, population)].add(crm_id)
    return {cell: len(accounts) for cell, accounts in cells.items()}


def page_rows(client: TestClient, url: str) -> list[str]:
    """Our account names on a drill-down page, one per row (each account's own table body)."""
    page = client.get(url)
    assert page.status_code == 200, url
    return re.findall(
        r'<tbody class="overlap-account">\s*<tr>\s*<td rowspan="\d+" class="account">(?:<a [^>]*>)?([^<]+)',
        page.text,
    )


FILTERS = [
    AccountFilter(),
    AccountFilter(owner="Pete"),
    AccountFilter(owner="Olga"),
    AccountFilter(segment=Segment.ENTERPRISE),
    AccountFilter(segment=Segment.UNKNOWN),
    AccountFilter(owner="Olga", segment=Segment.SMB),
]


@pytest.mark.all_backends
def test_every_cell_counts_what_an_independent_count_finds_and_opens_exactly_those_accounts(
    client: TestClient, session: Session, tmp_path: Path
) -> None:
    partner = seed_and_sign_in(client, session, tmp_path, Role.SALES)
    assert expected_counts()[("customers", "Customers")] == 2  # Acme once, though listed twice
    for only in FILTERS:
        matrix = overlap_matrix(session, SYSTEM, partner.id, only=only)
        assert matrix.counts == expected_counts(only), only
        for (ours, theirs), count in matrix.counts.items():
            accounts = by_account(
                cell_accounts(session, SYSTEM, partner.id, ours=ours, theirs=theirs, only=only)
            )
            assert len(accounts) == count
            query = {"ours": ours, "owner": only.owner, "segment": only.segment or ""}
            query |= {"theirs": theirs} if theirs else {"no_population": "1"}
            url = f"/mapping/partners/{partner.id}/overlaps?" + "&".join(f"{k}={v}" for k, v in query.items())
            assert len(page_rows(client, url)) == count, url


def test_shares_pipeline_and_heat_worked_by_hand(session: Session, tmp_path: Path) -> None:
    partner = seed(session, tmp_path)
    matrix = overlap_matrix(session, SYSTEM, partner.id)
    assert matrix.our_sizes == {"customers": 3, "open_opportunities": 2, "prospects": 3}
    assert matrix.their_sizes == {"Customers": 5, "Prospects": 1, "": 1}
    acme_umbrella = matrix.cells[("customers", "Customers")]
    # A1 (P1, P1b) and A4 (P4): 2 of our 3 customers, 3 of their 5 customer records; A4 open 700 + 300.
    assert (acme_umbrella.accounts, acme_umbrella.their_accounts) == (2, 3)
    assert (percent(acme_umbrella.of_ours), percent(acme_umbrella.of_theirs)) == ("67 %", "60 %")
    assert acme_umbrella.open_amount == Decimal(1000)
    globex_umbrella = matrix.cells[("open_opportunities", "Customers")]
    assert (percent(globex_umbrella.of_ours), percent(globex_umbrella.of_theirs)) == ("100 %", "40 %")
    assert globex_umbrella.open_amount == Decimal(6000)  # each account once: 5,000 + 1,000
    # Heat against the largest cell (2 accounts): 2 → 5 of 5, 1 → ceil(2.5) = 3.
    assert {cell: c.heat for cell, c in matrix.cells.items()} == {
        ("customers", "Customers"): 5,
        ("open_opportunities", "Customers"): 5,
        ("prospects", "Prospects"): 3,
        ("prospects", ""): 3,
    }
    # Pete's accounts: his one customer (A4) is in the cell, so 100 % of his customers, 1 of their 5.
    petes = overlap_matrix(session, SYSTEM, partner.id, only=AccountFilter(owner="Pete"))
    assert petes.our_sizes == {"customers": 1, "open_opportunities": 2, "prospects": 1}
    cell = petes.cells[("customers", "Customers")]
    assert (percent(cell.of_ours), percent(cell.of_theirs), cell.open_amount) == ("100 %", "20 %", 1000)
    # Enterprise: A4 and A6 are our customers of 2,000 and more employees; A4 overlaps.
    big = overlap_matrix(session, SYSTEM, partner.id, only=AccountFilter(segment=Segment.ENTERPRISE))
    assert (
        big.our_sizes["customers"] == 2 and percent(big.cells[("customers", "Customers")].of_ours) == "50 %"
    )


@pytest.mark.parametrize(
    ("share", "shown"),
    [(0, "0 %"), (0.001, "<1 %"), (0.0049, "<1 %"), (0.005, "1 %"), (0.125, "13 %"), (0.994, "99 %"),
     (0.995, ">99 %"), (1, "100 %")],
)  # fmt: skip
def test_percent_boundaries(share: float, shown: str) -> None:
    assert percent(share) == shown


def test_the_page_shows_shares_pipeline_heat_and_filters_left_on_all_answer(
    client: TestClient, session: Session, tmp_path: Path
) -> None:
    partner = seed_and_sign_in(client, session, tmp_path, Role.VIEWER)
    page = client.get(f"/mapping/partners/{partner.id}", params={"owner": "", "segment": ""})
    assert page.status_code == 200
    cell = re.search(r'<td class="num heat heat-5">\s*<a href="([^"]+)">(.*?)</a>', page.text, re.S)
    assert cell is not None
    assert cell.group(1) == f"/mapping/partners/{partner.id}/overlaps?ours=customers&amp;theirs=Customers"
    text = re.sub(r"<[^>]+>|\s+", " ", cell.group(2)).split()
    assert " ".join(text) == "2 67 % of our Customers 60 % of their Customers 1,000 USD open"
    assert 'no_population=1">' in page.text  # the "(no population)" column has a cell link of its own
    # The drill-down with every filter left on "all", as its form sends it.
    drill = client.get(
        f"/mapping/partners/{partner.id}/overlaps",
        params={"ours": "customers", "theirs": "Customers", "owner": "", "segment": ""},
    )
    assert drill.status_code == 200 and "2 results" in drill.text
    # A filter carries to the cell links, and an unknown segment is refused with a 422 page.
    filtered = client.get(f"/mapping/partners/{partner.id}", params={"owner": "Pete", "segment": ""})
    assert "ours=customers&amp;theirs=Customers&amp;owner=Pete" in filtered.text
    assert client.get(f"/mapping/partners/{partner.id}", params={"segment": "huge"}).status_code == 422


def test_the_drill_down_links_our_names_to_the_account_page_with_the_owner(
    client: TestClient, session: Session, tmp_path: Path
) -> None:
    partner = seed_and_sign_in(client, session, tmp_path, Role.SALES)
    ids = {crm_id: id_ for crm_id, id_ in session.execute(select(Account.crm_id, Account.id))}
    page = client.get(
        f"/mapping/partners/{partner.id}/overlaps", params={"ours": "customers", "theirs": "Customers"}
    )
    rows = re.findall(
        r'class="account"><a href="/accounts/(\d+)">([^<]+)</a>.*?</td>\s*<td rowspan="\d+">([^<]+)</td>',
        page.text,
        re.S,
    )
    # Largest open pipeline first: Umbrella (1,000) before Acme (none); Acme's two records in one row.
    assert rows == [(str(ids["A4"]), "Umbrella", "Pete"), (str(ids["A1"]), "Acme", "Olga")]
    assert "Acme Inc" in page.text and "Acme Europe" in page.text
    assert client.get(f"/accounts/{rows[0][0]}").status_code == 200
    assert page_rows(client, f"/mapping/partners/{partner.id}/overlaps?no_population=1") == ["Zeta"]
    assert len(page_rows(client, f"/mapping/partners/{partner.id}/overlaps")) == 5  # all: A1 A2 A3 A4 A7


def test_partner_users_see_the_shared_counts_as_a_matrix_and_nothing_more(
    client: TestClient, session: Session, tmp_path: Path
) -> None:
    partner = seed(session, tmp_path)
    sharing.set_rules(
        session,
        SYSTEM,
        partner.id,
        {
            "customers": sharing.Rule(SharingLevel.COUNTS),
            "prospects": sharing.Rule(SharingLevel.OVERLAPPING, ("name",)),
        },  # open opportunities: hidden
    )
    sign_in(client, make_partner_user(session, partner).email)
    session.flush()
    for url in (
        f"/mapping/partners/{partner.id}?owner=Pete&segment=smb",
        f"/mapping/partners/{partner.id}/overlaps?ours=customers&theirs=Customers&owner=&segment=",
        f"/mapping/partners/{partner.id}/overlaps?no_population=1",
        f"/mapping/partners/{partner.id}/overlaps.csv?ours=prospects",
    ):
        assert client.get(url).status_code == 403, url
    page = client.get("/portal/overlaps")
    matrix = page.text.split('<table class="matrix">')[1].split("</table>")[0]
    cells = [
        (row, re.sub(r"<[^>]+>|\s+", "", cells))
        for row, cells in re.findall(
            r'<th scope="row"><a href="#shared-(\w+)">.*?</th>(.*?)</tr>', matrix, re.S
        )
    ]
    # Columns (no population), Customers, Prospects; the hidden population has no row.
    assert cells == [("customers", "020"), ("prospects", "101")]
    assert (
        '<td class="num heat heat-5"><strong class="count">2</strong></td>' in matrix
    )  # counts only: no link
    assert (
        '<a href="#shared-prospects"><strong class="count">1</strong></a>' in matrix
    )  # its accounts are listed
    assert "Open Opportunities" not in page.text and "Globex" not in page.text
    for internal in ("Pete", "Olga", "USD", " % of our", "Acme", "Umbrella"):
        assert internal not in page.text, internal  # owners, pipeline, shares, counted-only accounts


def test_the_filter_forms_left_as_they_are_or_cleared_answer_their_page(
    client: TestClient, session: Session, tmp_path: Path
) -> None:
    partner = seed_and_sign_in(client, session, tmp_path, Role.PARTNER_MANAGER)
    for path in (
        f"/mapping/partners/{partner.id}?owner=Pete",
        f"/mapping/partners/{partner.id}/overlaps?ours=prospects&no_population=1&segment=smb",
    ):
        forms = [form for form in get_forms(f"http://testserver{path}", client.get(path).text) if form.fields]
        assert forms, path
        for form in forms:
            for url in (form.url(), form.url(**{name: "" for name, _ in form.fields})):
                assert client.get(url).status_code == 200, url
    # Left as it is, the drill-down's form keeps its cell: Zeta, our small prospect with no population.
    (form,) = get_forms("http://testserver/", client.get(path).text)
    assert page_rows(client, form.url()) == ["Zeta"]


def test_the_api_gives_the_same_cells_with_shares_and_pipeline(
    client: TestClient, session: Session, tmp_path: Path
) -> None:
    partner = seed(session, tmp_path)
    headers = bearer(session, make_user(session, Role.SALES))
    url = f"/api/v1/mapping/partners/{partner.id}/matrix"
    petes = client.get(url, params={"owner": "Pete"}, headers=headers).json()
    assert petes["our_sizes"] == {"customers": 1, "open_opportunities": 2, "prospects": 1}
    assert petes["their_sizes"] == {"": 1, "Customers": 5, "Prospects": 1}
    cell = next(c for c in petes["cells"] if (c["ours"], c["theirs"]) == ("open_opportunities", "Customers"))
    # Globex and Umbrella, Pete's both: all of his open opportunities, 2 of their 5 customers, 5,000 + 1,000.
    assert (cell["accounts"], cell["their_accounts"], cell["share_of_ours"], cell["share_of_theirs"]) == (
        2,
        2,
        1.0,
        0.4,
    )
    assert Decimal(cell["open_amount"]) == 6000
    everyone = client.get(url, headers=headers).json()
    assert {(c["ours"], c["theirs"]): c["accounts"] for c in everyone["cells"]} == expected_counts()
    assert client.get(url, params={"segment": "huge"}, headers=headers).status_code == 422
