"""Caps on a row's length and its number of columns, met while the file streams: a 200 MB line or
100,000 columns is refused with the file and line, without reading it whole, and nothing is recorded."""

import tracemalloc

import pytest
from sqlalchemy import func, select

from ecoops.config import Settings
from ecoops.crm.imports import staging
from ecoops.crm.imports.formats import ImportFileError
from ecoops.crm.imports.reader import CsvRows, ReadLimits, examine
from ecoops.crm.models import Account, ImportRun
from tests.crm.imports.files import run, write_csv
from tests.crm.imports.test_upsert import OPPORTUNITIES

DEFAULTS = Settings()


def test_the_defaults(tmp_path):
    path = write_csv(tmp_path, "Id,Name\n1,x\n")
    assert examine(path, path.name).limits == ReadLimits(row_chars=1 << 20, columns=2000)
    assert (DEFAULTS.import_max_row_chars, DEFAULTS.import_max_columns) == (1 << 20, 2000)


def _rows(path, limits):
    with CsvRows(examine(path, path.name, limits)) as rows:
        return rows.header, list(rows)


def test_a_row_at_the_cap_is_read_and_one_over_it_is_refused(tmp_path):
    limits = ReadLimits(row_chars=100, columns=10)
    at_cap = "1," + "x" * (100 - 4) + "\r\n"  # 100 characters with its line break
    path = write_csv(tmp_path, "Id,Name\n" + at_cap.replace("\r\n", "\n"))
    assert _rows(path, limits)[1] == [(2, ["1", "x" * 96])]
    path = write_csv(tmp_path, "Id,Name\n1," + "x" * 97 + "\n")
    with pytest.raises(ImportFileError, match=r"export\.csv: line 2: a row longer than 100 characters"):
        _rows(path, limits)


def test_a_row_spread_over_lines_by_quotes_is_capped_as_one_row(tmp_path):
    limits = ReadLimits(row_chars=100, columns=10)
    cell = '"' + "\n".join(["y" * 30] * 4) + '"'  # four short lines, one row of 130 characters
    path = write_csv(tmp_path, f"Id,Name\n1,ok\n2,{cell}\n")
    with pytest.raises(ImportFileError, match=r"line 3: a row longer than 100 characters"):
        _rows(path, limits)


def test_columns_at_the_cap_are_read_and_one_more_is_refused(tmp_path):
    limits = ReadLimits(row_chars=10_000, columns=10)
    header = ",".join(f"c{n}" for n in range(10))
    path = write_csv(tmp_path, header + "\n" + ",".join("v" * 10) + "\n")
    assert len(_rows(path, limits)[0]) == 10
    path = write_csv(tmp_path, header + "\n" + ",".join("v" * 11) + "\n")  # a data row with one too many
    with pytest.raises(ImportFileError, match=r"export\.csv: line 2: 11 columns; at most 10"):
        _rows(path, limits)


def test_a_hundred_thousand_columns_are_refused_at_the_header(session, tmp_path):
    header = "Id,Name," + ",".join(f"C{n}" for n in range(100_000))  # 600 kB: under the row cap
    path = write_csv(tmp_path, header + "\n1,Acme\n", name="wide.csv")
    with pytest.raises(ImportFileError, match=r"wide\.csv: line 1: 100,002 columns; at most 2,000"):
        run(session, path)
    assert session.scalar(select(func.count()).select_from(ImportRun)) == 0


@pytest.mark.parametrize("shape", ["one cell", "many cells"])
def test_a_200_mb_line_is_refused_in_bounded_memory(session, tmp_path, shape):
    """The whole file is one line: one huge cell, or twenty million short ones."""
    path = tmp_path / "oneline.csv"
    block = b"x" * (1 << 20) if shape == "one cell" else b"abcdefghi," * (1 << 17)
    with path.open("wb") as out:
        for _ in range(200):
            out.write(block)
    tracemalloc.start()
    try:
        with pytest.raises(ImportFileError, match=r"oneline\.csv: line 1: a row longer than 1,048,576"):
            run(session, path)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 32 << 20, f"peak {peak / (1 << 20):.0f} MiB"
    with pytest.raises(ImportFileError, match=r"line 1: a row longer"):  # met by the first pass over
        examine(path, path.name)  # the bytes, a few MiB in, before the whole file is hashed


def test_a_cell_longer_than_its_column_refuses_the_row_not_the_file(session, tmp_path):
    text = "Id,Name,Industry\n001A0000001aaaaAAA,Acme," + "i" * 256 + "\n001A0000001bbbbAAA,Globex,Retail\n"
    outcome = run(session, write_csv(tmp_path, text), accept_valid=True)
    assert [(p.line, p.field, p.message) for p in outcome.problems] == [
        (2, "Industry", "256 characters; at most 255")
    ]
    assert session.scalars(select(Account.name)).all() == ["Globex"]


@pytest.mark.all_backends
def test_a_salesforce_account_export_with_a_149_character_industry(session, tmp_path):
    """Salesforce text fields and picklist values hold 255 characters; PostgreSQL enforces our lengths."""
    industry = ("Manufacturing of industrial machinery, precision instruments and automation " * 2)[:149]
    text = (
        "Id,Name,Type,ParentId,BillingCountry,Website,Industry,NumberOfEmployees,OwnerId,CreatedDate\n"
        f'001A0000001aaaaAAA,Acme,Customer - Direct,,Germany,acme.de,"{industry}",250,005A0000001xxxxAAA,'
        "2024-03-01T10:00:00.000+0000\n"
    )
    outcome = run(session, write_csv(tmp_path, text, name="Account.csv"))
    assert (outcome.source_format, outcome.new, outcome.rejected) == ("salesforce_api", 1, 0)
    assert session.scalar(select(Account.industry)) == industry and len(industry) == 149


def test_one_id_on_many_lines_names_a_few_of_the_others(session, tmp_path):
    """Each refused row names five other lines and a count, not all of them (quadratic in the file)."""
    text = "Id,Name\n" + "001A0000001aaaaAAA,Acme\n" * 20_000
    outcome = run(session, write_csv(tmp_path, text))
    assert outcome.rejected == 20_000
    assert [(p.line, p.message) for p in outcome.problems[:2]] == [
        (2, "the id 001A0000001aaaaAAA is also on line 3, 4, 5, 6, 7 and 19,994 more"),
        (3, "the id 001A0000001aaaaAAA is also on line 2, 4, 5, 6, 7 and 19,994 more"),
    ]
    assert outcome.problems[-1].message.endswith("line 2, 3, 4, 5, 6 and 19,994 more")


@pytest.mark.parametrize("fails", [False, True], ids=["committed", "failed"])
def test_an_import_gives_the_connection_its_page_caches_back(
    session, connection, tmp_path, monkeypatch, fails
):
    """The importing connection gets large SQLite caches for the load only: a pooled connection in a
    long-lived worker would otherwise keep hundreds of MiB after its import, failed or not."""
    sizes = ("PRAGMA main.cache_size", "PRAGMA temp.cache_size")
    connection.exec_driver_sql("PRAGMA temp.cache_size = -3000")
    before = [connection.exec_driver_sql(pragma).scalar_one() for pragma in sizes]
    seen: list[list[int]] = []
    original = staging.RecordStage.finish_loading

    def spy(self):
        seen.append([connection.exec_driver_sql(pragma).scalar_one() for pragma in sizes])
        if fails:
            raise RuntimeError("the disk is full")
        original(self)

    monkeypatch.setattr(staging.RecordStage, "finish_loading", spy)
    if fails:
        with pytest.raises(RuntimeError, match="the disk is full"):
            run(session, write_csv(tmp_path, OPPORTUNITIES))
    else:
        run(session, write_csv(tmp_path, OPPORTUNITIES))
    assert seen == [[-staging.SQLITE_CACHE_KIB] * 2]
    after = [connection.exec_driver_sql(pragma).scalar_one() for pragma in sizes]
    assert after == before == [before[0], -3000]
