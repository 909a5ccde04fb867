"""Files that cannot be imported at all say why, naming the file and line, and nothing is recorded."""

import pytest
from sqlalchemy import func, select

from ecoops.crm.imports.formats import ImportFileError
from ecoops.crm.models import ImportRun
from tests.crm.imports.files import run, write_csv


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", r"opps\.csv: the file is empty"),
        ("\n\n", r"opps\.csv: the file has no header row"),
        ("Id,StageName,CloseDate\n", r"opps\.csv: the file has a header but no rows"),
        ("Id,StageName\n\n,\n", r"opps\.csv: the file has a header but no rows"),
        ("Id,StageName,Id\n1,x,1\n", r"line 1: the column 'Id' appears twice \(columns 1 and 3\)"),
        ("Id,,StageName\n1,x,y\n", r"line 1: column 2 has no name"),
        ("Customer No,Customer\n1,x\n", r"not an export we recognise \(tried accounts, opportunities"),
    ],
)
def test_unreadable_files(session, tmp_path, text, message):
    with pytest.raises(ImportFileError, match=message):
        run(session, write_csv(tmp_path, text, name="opps.csv"))
    assert session.scalar(select(func.count()).select_from(ImportRun)) == 0


def test_a_cell_longer_than_the_csv_limit_is_a_file_error(session, tmp_path):
    text = 'Id,StageName\n1,Prospecting\n2,"' + "x" * 200_000 + '"\n'
    with pytest.raises(ImportFileError, match=r"opps\.csv: line 3: field larger than field limit"):
        run(session, write_csv(tmp_path, text, name="opps.csv"))


def test_an_unclosed_quote_is_caught(session, tmp_path):
    text = 'Id,StageName\n1,"Prospecting\n' + "2,Closed Won\n" * 30_000
    with pytest.raises(ImportFileError, match=r"line 2: .*a quote that is never closed"):
        run(session, write_csv(tmp_path, text, name="opps.csv"))


def test_long_cells_and_short_rows_are_row_errors(session, tmp_path):
    text = (
        "Id,Name,Website\n001A0000001aaaaAAA,"
        + "N" * 301
        + ",x.com\n001A0000001bbbbAAA,Short\nmore,text,x.com,extra\n"
    )
    outcome = run(session, write_csv(tmp_path, text))
    assert [(p.line, p.field, p.message) for p in outcome.problems] == [
        (2, "Name", "301 characters; at most 300"),
        (3, "", "2 cells where the header has 3 (a line break inside an unquoted cell?)"),
        (4, "", "4 cells where the header has 3"),
    ]
