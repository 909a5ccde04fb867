"""Decoding is strict: UTF-8 (BOM or not) or UTF-16 with a BOM; Windows-1252 only for a file that is
valid in it and not UTF-8, and not a damaged UTF-8 file; anything else is refused naming the file,
line, byte and column, with nothing recorded."""

import codecs

import pytest
from sqlalchemy import func, select

from ecoops.crm.imports import reader
from ecoops.crm.imports.formats import ImportFileError
from ecoops.crm.imports.reader import examine
from ecoops.crm.models import Account, ImportRun
from tests.crm.imports.files import run, snapshot, write_csv

QUOTE = "\N{RIGHT SINGLE QUOTATION MARK}"
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


def test_excel_unicode_text_is_utf16_with_tabs(session, tmp_path):
    """Excel's "Unicode Text": UTF-16 little-endian with a BOM, tab-separated."""
    text = "Record ID\tCompany name\tCompany Domain Name\r\n7\tMüller & Söhne\tmueller.de\r\n"
    path = tmp_path / "unicode.txt"
    path.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    assert (run(session, path).new, session.scalar(select(Account.name))) == (1, "Müller & Söhne")


def test_excel_semicolon_files(session, tmp_path):
    text = 'Record ID;Company name;Company Domain Name\n42;"Dupont; fils";dupont.fr\n'
    outcome = run(session, write_csv(tmp_path, text, encoding="cp1252"))
    assert (outcome.source_format, outcome.new) == ("hubspot", 1)
    assert session.execute(select(Account.name, Account.domain)).one() == ("Dupont; fils", "dupont.fr")


def test_a_windows_1252_file_is_read_as_one(session, tmp_path):
    """Even with a byte pair that happens to be valid UTF-8 (É and a closing quote, C9 92): its other
    accents are not."""
    text = (
        f"Id,Name,Industry\n001A0000001aaaaAAA,Müller,CAFÉ{QUOTE}S\n"
        "001A0000001bbbbAAA,Crème brûlée,Bäckerei\n"
    )
    path = write_csv(tmp_path, text, encoding="cp1252")
    assert examine(path, path.name).encoding == "cp1252"
    run(session, path)
    assert sorted(session.execute(select(Account.name, Account.industry))) == [
        ("Crème brûlée", "Bäckerei"),
        ("Müller", f"CAFÉ{QUOTE}S"),
    ]


# A UTF-8 export where one byte went bad: `Müller` and `Straße` are UTF-8, `\xfc` (ü in Windows-1252)
# is not. Read as Windows-1252 it would store `MÃ¼ller`.
DAMAGED = (
    "Id,Name,Industry\r\n001A0000001aaaaAAA,Müller,Straße\r\n".encode()
    + b"001A0000001bbbbAAA,Ok,Retail\r\n001A0000001ccccAAA,Bad,K\xfchlung\r\n"
)


@pytest.mark.parametrize("chunk", [reader.CHUNK, 5, 64])  # small chunks split characters and lines
def test_a_damaged_utf8_file_is_refused_with_line_byte_and_column(session, tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(reader, "CHUNK", chunk)
    path = tmp_path / "accounts.csv"
    path.write_bytes(DAMAGED)
    before = snapshot(session.connection())
    byte = DAMAGED.index(b"\xfc")
    with pytest.raises(
        ImportFileError,
        match=rf"accounts\.csv: line 4, byte {byte}, column 'Industry': not UTF-8, in a file otherwise "
        r"written in UTF-8 \(bad bytes: 1; UTF-8 characters beyond ASCII: 2\), so the file is damaged",
    ):
        run(session, path)
    assert snapshot(session.connection()) == before
    assert session.scalar(select(func.count()).select_from(ImportRun)) == 0


def test_one_good_and_one_bad_character_is_a_damaged_utf8_file(tmp_path):
    """The boundary of the rule: as many valid UTF-8 characters as bad bytes is UTF-8 (refused)."""
    path = tmp_path / "tie.csv"
    path.write_bytes("Id,Name\n1,Müller\n".encode() + b"2,M\xfcller\n")  # the bad byte is byte 21
    with pytest.raises(ImportFileError, match=r"tie\.csv: line 3, byte 21, column 'Name': not UTF-8"):
        examine(path, path.name)
    path.write_bytes("Id,Name\n1,Müller\n".encode() + b"2,M\xfcller \xe9t\xe9\n")  # bad bytes outnumber
    assert examine(path, path.name).encoding == "cp1252"


def test_a_file_ending_inside_a_utf8_character_is_refused(tmp_path):
    path = tmp_path / "cut.csv"
    body = "Id,Name\n1,Müller\n2,Jürgen\n".encode() + b"3,Ren\xc3"
    path.write_bytes(body)
    with pytest.raises(ImportFileError, match=rf"cut\.csv: line 4, byte {len(body) - 1}, column 'Name'"):
        examine(path, path.name)


def test_bytes_in_neither_encoding_are_refused_with_their_line(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_bytes(b"Id,Name\r\n1,ok\r\n2,\xe9t\xe9 \x81 bad\r\n")
    with pytest.raises(
        ImportFileError, match=r"broken\.csv: line 3, byte 21: bytes that are neither UTF-8 nor Windows-1252"
    ):
        examine(path, path.name)


def test_a_bom_file_with_broken_utf8_is_refused(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfId,Name\n1,caf\xe9\n")
    with pytest.raises(ImportFileError, match=r"bom\.csv: line 2, byte 16, column 'Name': not UTF-8"):
        examine(path, path.name)


def test_a_utf16_file_with_a_broken_character_is_refused(tmp_path):
    path = tmp_path / "u16.csv"
    path.write_bytes(codecs.BOM_UTF16_LE + "Id,Name\n1,x\n".encode("utf-16-le") + b"\x00\xdc" + b"a\x00")
    with pytest.raises(ImportFileError, match=r"u16\.csv: line 3, byte 26: not UTF-16"):  # a lone surrogate
        examine(path, path.name)
    path.write_bytes(codecs.BOM_UTF16_LE + "Id,Name\n1,x\n".encode("utf-16-le") + b"a")
    with pytest.raises(ImportFileError, match=r"u16\.csv: line 3: the file ends inside a UTF-16 character"):
        examine(path, path.name)


def test_nul_bytes_are_refused(tmp_path):
    """UTF-16 without its byte-order mark, or a workbook saved under a .csv name."""
    path = tmp_path / "nobom.csv"
    path.write_bytes("Id,Name\n1,x\n".encode("utf-16-le"))
    with pytest.raises(ImportFileError, match=r"nobom\.csv: line 1, byte 1: a NUL byte"):
        examine(path, path.name)


def test_a_broken_character_at_the_end_of_a_chunk_is_placed_right(tmp_path, monkeypatch):
    """The first byte of a two-byte character ends one chunk, and plain ASCII starts the next."""
    head = "Id,Name\n1,Müller\n".encode() + b"2,Ren"
    monkeypatch.setattr(reader, "CHUNK", len(head) + 1)
    path = tmp_path / "split.csv"
    path.write_bytes(head + b"\xc3" + b"e\n3,x\n")
    with pytest.raises(ImportFileError, match=rf"split\.csv: line 3, byte {len(head)}, column 'Name'"):
        examine(path, path.name)
