"""Any other file imports with an explicit column mapping (a JSON file or the page's form), checked."""

import json
from datetime import date

import pytest
from sqlalchemy import select

from ecoops.crm.imports.formats import ImportFileError, read_mapping_file
from ecoops.crm.models import Account
from tests.crm.imports.files import run, write_csv

ERP = "Customer No;Customer;Web;Since\nC-1;Kunde Eins GmbH;kunde-eins.de;03.04.2024\nC-2;Zwei AG;;\n"


def test_a_mapping_file_reads_an_unknown_export(session, tmp_path):
    mapping_file = tmp_path / "erp.json"
    mapping_file.write_text(
        json.dumps(
            {
                "kind": "accounts",
                "columns": {
                    "crm_id": "Customer No",
                    "name": "Customer",
                    "website": "Web",
                    "created_on": "Since",
                },
            }
        )
    )
    outcome = run(session, write_csv(tmp_path, ERP), mapping=read_mapping_file(mapping_file))
    assert (outcome.source_format, outcome.new) == ("custom", 2)
    rows = session.execute(
        select(Account.crm_id, Account.domain, Account.created_on).order_by(Account.crm_id)
    ).all()
    assert rows == [("C-1", "kunde-eins.de", date(2024, 4, 3)), ("C-2", "", None)]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"kind": "widgets", "columns": {}}, "kind must be one of accounts, opportunities"),
        (
            {"kind": "accounts", "columns": {"crm_id": "Customer No", "colour": "Web"}},
            "accounts has no field colour",
        ),
        (
            {"kind": "accounts", "columns": {"crm_id": "Customer No", "name": "Kunde"}},
            "has no column 'Kunde'",
        ),
        (
            {"kind": "accounts", "columns": {"crm_id": "Customer No"}},
            "the required fields name have no column",
        ),
        (
            {
                "kind": "accounts",
                "columns": {"crm_id": "Customer No", "name": "Customer"},
                "date_order": "YMD",
            },
            "date_order must be MDY or DMY",
        ),
    ],
)
def test_mapping_mistakes_are_named(session, tmp_path, spec, message):
    with pytest.raises(ImportFileError, match=message):
        run(session, write_csv(tmp_path, ERP), mapping=spec)


def test_a_mapping_file_that_is_not_json(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("kind: accounts")
    with pytest.raises(ImportFileError, match=r"bad\.json: not a readable JSON mapping"):
        read_mapping_file(bad)
