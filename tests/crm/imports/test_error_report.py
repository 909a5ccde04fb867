"""The error report names each refused row's physical line and column, and is safe in a spreadsheet."""

import csv
import io

from sqlalchemy import select

from ecoops.actors import SYSTEM
from ecoops.crm.imports import service
from ecoops.crm.imports.report import neutralise, write_report
from ecoops.crm.models import Account
from tests.crm.imports.files import TODAY, WORKSPACE, run, write_csv

# Quoted line breaks before the bad rows: line numbers are the file's own, as an editor shows them.
WITH_LINE_BREAKS = """Id,Name,Website,NumberOfEmployees
001A0000001aaaaAAA,"Acme
Corp, the
original",acme.com,10
001A0000001bbbbAAA,Globex,globex.com,many
001A0000001ccccAAA,"Initech
Ltd",initech.com,=1+2
001A0000001ddddAAA,"=HYPERLINK(""http://evil.example"")",evil.example,-5
"""


def test_lines_are_physical_even_after_quoted_line_breaks(session, tmp_path):
    outcome = run(session, write_csv(tmp_path, WITH_LINE_BREAKS))
    assert [(p.line, p.field, p.value) for p in outcome.problems] == [
        (5, "NumberOfEmployees", "many"),
        (6, "NumberOfEmployees", "=1+2"),
        (8, "NumberOfEmployees", "-5"),
    ]
    assert session.scalars(select(Account)).all() == []


def test_the_report_neutralises_formulas_and_round_trips_line_and_field(session, tmp_path):
    out = io.StringIO(newline="")
    service.run_import(
        session,
        SYSTEM,
        write_csv(tmp_path, WITH_LINE_BREAKS),
        filename="accounts.csv",
        request=service.ImportRequest(),
        workspace=WORKSPACE,
        today=TODAY,
        report_to=out,
    )
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0] == ["line", "column", "value", "problem"]
    assert [(r[0], r[1], r[2]) for r in rows[1:]] == [
        ("5", "NumberOfEmployees", "many"),
        ("6", "NumberOfEmployees", "'=1+2"),
        ("8", "NumberOfEmployees", "'-5"),
    ]


def test_the_stored_report_is_the_same_as_the_one_written_during_the_run(session, tmp_path):
    outcome = run(session, write_csv(tmp_path, WITH_LINE_BREAKS))
    stored = io.StringIO(newline="")
    written = write_report(service.run_problems(session, SYSTEM, outcome.run_id), stored)
    assert written == 3
    assert "'=1+2" in stored.getvalue()


def test_neutralise():
    cells = ["=SUM(A1)", "+1", "-1", "@cmd", "\tx", "\rx", "plain", "", "a=b"]
    assert [neutralise(c) for c in cells] == [
        "'=SUM(A1)",
        "'+1",
        "'-1",
        "'@cmd",
        "'\tx",
        "'\rx",
        "plain",
        "",
        "a=b",
    ]
