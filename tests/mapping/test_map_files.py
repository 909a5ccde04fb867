"""`ecoops map-files`: two exports in, overlaps out; encodings, missing columns, bad rows, formulas."""

import csv

from typer.testing import CliRunner

from ecoops.cli import app

SALESFORCE = """Id,Name,Website,BillingCountry
001A,Acme Inc,https://www.acme.com,USA
001B,Globex Corporation,,United States
001C,,,
001D,=HYPERLINK("http://x"),,Germany
,Orphan Ltd,orphan.co.uk,UK
001E,Initech GmbH,initech.de,Deutschland
"""
HUBSPOT = """Record ID,Company name,Company Domain Name,Country/Region
9,ACME,acme.com,United States
8,Globex Corp.,,USA
7,,n/a,
6,"=HYPERLINK(""http://x"")",,DE
5,Müller Maschinenbau AG,mueller.de,Germany
"""


def _write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def _rows(path):
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_two_exports_give_one_row_per_matched_pair(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")
    ours = _write(tmp_path / "ours.csv", SALESFORCE)
    theirs = _write(tmp_path / "theirs.csv", HUBSPOT, encoding="utf-8-sig")  # with a BOM
    out = tmp_path / "overlaps.csv"
    result = CliRunner().invoke(app, ["map-files", str(ours), str(theirs), "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = _rows(out)
    assert [(r["our_id"], r["their_id"], r["method"], r["score"]) for r in rows] == [
        ("001A", "9", "domain", "1.0000"),
        ("001B", "8", "name_country", "1.0000"),
        ("001D", "6", "name_country", "1.0000"),
    ]
    assert rows[0]["explanation"] == "same company domain acme.com"
    assert {"name_similarity", "domain_agreement", "country_agreement", "our_domain"} <= set(rows[0])
    assert "3 matched pairs" in result.output and "domain 1, name_country 2" in result.output
    # Reported, not dropped: a row with no id, and rows with neither a name nor a domain (by line).
    assert "ours.csv: rows with no id, left out: 1 (lines 6)" in result.output
    assert (
        "ours.csv: rows with neither a name nor a usable domain, never matched: 1 (lines 4)" in result.output
    )
    assert (
        "theirs.csv: rows with neither a name nor a usable domain, never matched: 1 (lines 4)"
        in result.output
    )


def test_cells_that_a_spreadsheet_would_run_are_neutralised(tmp_path):
    ours = _write(tmp_path / "ours.csv", "Id,Name,Website\n=1+1,Acme,acme.com\n@SUM,Beta,beta.com\n")
    theirs = _write(tmp_path / "theirs.csv", "Id,Name,Website\n-2,Acme,acme.com\n+3,Beta,beta.com\n")
    out = tmp_path / "overlaps.csv"
    assert CliRunner().invoke(app, ["map-files", str(ours), str(theirs), "-o", str(out)]).exit_code == 0
    assert [(r["our_id"], r["their_id"]) for r in _rows(out)] == [("'=1+1", "'-2"), ("'@SUM", "'+3")]


def test_windows_1252_partner_list_with_only_emails(tmp_path):
    ours = _write(
        tmp_path / "ours.csv",
        "Account ID,Account Name,Website,Billing Country\nA1,Café Rouge,caferouge.fr,France\n",
    )
    theirs = _write(
        tmp_path / "partner.csv",
        "Account ID,Account Name,Email,Country\nP1,Café Rouge SARL,contact@caferouge.fr,FR\n",
        encoding="cp1252",
    )
    out = tmp_path / "overlaps.csv"
    result = CliRunner().invoke(app, ["map-files", str(ours), str(theirs), "-o", str(out)])
    assert result.exit_code == 0, result.output
    (row,) = _rows(out)
    assert (row["our_id"], row["their_id"], row["method"]) == ("A1", "P1", "domain")
    assert row["their_name_key"] == "cafe rouge"


def test_a_file_without_key_columns_is_refused_naming_the_file_and_what_is_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")
    ours = _write(tmp_path / "ours.csv", SALESFORCE)
    theirs = _write(tmp_path / "partner.csv", "Region,Owner\nEMEA,Jane\n")
    out = tmp_path / "overlaps.csv"
    result = CliRunner().invoke(app, ["map-files", str(ours), str(theirs), "-o", str(out)])
    assert result.exit_code == 2
    assert "partner.csv: no column for an id (e.g. Id, Account ID, Record ID)" in result.output
    assert "and a name, website, domain or e-mail" in result.output
    assert not out.exists()


def test_a_partner_list_of_ids_and_emails_is_enough(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")
    ours = _write(tmp_path / "ours.csv", SALESFORCE)
    theirs = _write(tmp_path / "partner.csv", "Record ID,Email\nx1,jane@acme.com\nx2,bob@gmail.com\n")
    out = tmp_path / "overlaps.csv"
    result = CliRunner().invoke(app, ["map-files", str(ours), str(theirs), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert [(r["our_id"], r["their_id"], r["method"]) for r in _rows(out)] == [("001A", "x1", "domain")]
    assert (
        "partner.csv: rows with neither a name nor a usable domain, never matched: 1 (lines 3)"
        in result.output
    )


def test_an_empty_partner_file_is_an_error_not_an_empty_result(tmp_path):
    ours = _write(tmp_path / "ours.csv", SALESFORCE)
    theirs = _write(tmp_path / "partner.csv", "")
    result = CliRunner().invoke(app, ["map-files", str(ours), str(theirs), "-o", str(tmp_path / "o.csv")])
    assert result.exit_code == 2
    assert "partner.csv: the file is empty" in result.output


def test_a_header_only_file_writes_a_header_only_result(tmp_path):
    ours = _write(tmp_path / "ours.csv", SALESFORCE)
    theirs = _write(tmp_path / "partner.csv", "Id,Name,Website\n")
    out = tmp_path / "o.csv"
    result = CliRunner().invoke(app, ["map-files", str(ours), str(theirs), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text().splitlines() == [
        "our_id,their_id,method,score,name_similarity,domain_agreement,country_agreement,our_name_key,"
        "their_name_key,our_domain,their_domain,our_country,their_country,explanation"
    ]
