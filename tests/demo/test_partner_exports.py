"""Partners' account lists parse as CSV, carry population labels, and overlap ours as real lists do."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from sqlalchemy import select

from ecoops.crm.models import Account

SALESFORCE = ["Account ID", "Account Name", "Website", "Billing Country", "Population"]
HUBSPOT = ["Record ID", "Company name", "Company Domain Name", "Country/Region", "Population"]
POPULATIONS = {"Customers", "Open Opportunities", "Prospects"}


def read(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as file:
        return list(csv.reader(file))


def bare_domain(website: str) -> str:
    return re.sub(r"^(https?://)?(www\.)?", "", website.strip().lower()).split("/")[0]


def test_lists_parse_with_their_crm_headers_and_populations(small_workspace):
    lists = sorted((small_workspace.folder / "partner-exports").glob("*.csv"))

    assert 3 <= len(lists) <= 4
    headers = [read(path)[0] for path in lists]
    assert SALESFORCE in headers and HUBSPOT in headers
    for path in lists:
        header, *rows = read(path)
        assert header in (SALESFORCE, HUBSPOT)
        assert rows and all(len(row) == len(header) for row in rows)
        assert {row[-1] for row in rows} == POPULATIONS, path.name
        assert len({row[0] for row in rows}) == len(rows)


def test_lists_overlap_our_accounts_in_plausible_shares(full_workspace):
    with full_workspace.engine.connect() as connection:
        ours = {
            a.domain: a.crm_id for a in connection.execute(select(Account.domain, Account.crm_id)) if a.domain
        }
        names = dict(connection.execute(select(Account.crm_id, Account.name)).all())

    for path in sorted((full_workspace.folder / "partner-exports").glob("*.csv")):
        _, *rows = read(path)
        _, *truth_rows = read(full_workspace.folder / "match-truth" / path.name)
        truth = dict(truth_rows)
        by_domain = {row[0]: ours[bare_domain(row[2])] for row in rows if bare_domain(row[2]) in ours}
        differently_named = [row for row in rows if row[0] in truth and row[1] != names[truth[row[0]]]]

        assert 0.10 <= len(truth) / len(rows) <= 0.30, path.name
        assert 0.05 <= len(by_domain) / len(rows) <= 0.30, path.name
        assert by_domain.items() <= truth.items()  # an exact domain never matches the wrong account
        assert len(by_domain) < len(truth)  # some overlaps lack a usable domain
        assert len(differently_named) > len(truth) / 3  # their CRM spells our accounts its own way
