"""UTF-8 with or without a BOM, UTF-16, Windows-1252, `;` read alike; other bytes are refused."""

import pytest
from sqlalchemy import select

from ecoops.crm.imports.formats import ImportFileError
from ecoops.crm.imports.reader import examine
from ecoops.crm.models import Account
from tests.crm.imports.files import run, write_csv

TEXT = "Id,Name,Industry\n001A0000001aaaaAAA,Société Générale,Banque & €uro\n"


@pytest.mark.parametrize(
    ("encoding", "name"),
    [("utf-8", "UTF-8"), ("utf-8-sig", "UTF-8 with BOM"), ("utf-16", "UTF-16"), ("cp1252", "Windows-1252")],
)
def test_encodings_are_detected(session, tmp_path, encoding, name):
    path = write_csv(tmp_path, TEXT, encoding=encoding)
    assert examine(path, path.name).encoding_name == name
    outcome = run(session, path)
    assert (outcome.new, outcome.rejected) == (1, 0)
    assert session.execute(select(Account.name, Account.industry)).one() == (
        "Société Générale",
        "Banque & €uro",
    )


def test_excel_semicolon_files(session, tmp_path):
    text = 'Record ID;Company name;Company Domain Name\n42;"Dupont; fils";dupont.fr\n'
    outcome = run(session, write_csv(tmp_path, text, encoding="cp1252"))
    assert (outcome.source_format, outcome.new) == ("hubspot", 1)
    assert session.execute(select(Account.name, Account.domain)).one() == ("Dupont; fils", "dupont.fr")


def test_bytes_in_neither_encoding_are_refused_with_their_line(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_bytes(b"Id,Name\r\n1,ok\r\n2,\xe9t\xe9 \x81 bad\r\n")
    with pytest.raises(ImportFileError, match=r"broken\.csv: line 3 holds bytes that are neither UTF-8 nor"):
        examine(path, path.name)


def test_a_bom_file_with_broken_utf8_is_refused(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfId,Name\n1,caf\xe9\n")
    with pytest.raises(ImportFileError, match="not UTF-8"):
        examine(path, path.name)
