"""A file with a bad row writes nothing but its refused run; --accept-valid is never silent."""

import pytest
from sqlalchemy import select

from ecoops.audit import AuditEvent
from ecoops.crm.models import ImportRejection, ImportRun, Opportunity
from tests.crm.imports.files import run, snapshot, write_csv
from tests.factories import make_account, make_opportunity

pytestmark = pytest.mark.all_backends

GOOD_AND_BAD = """Id,AccountId,Name,StageName,Amount,CloseDate
006A0000001aaaaAAA,001A0000001aaaaAAA,New deal,Prospecting,100,2025-06-30
006A0000001bbbbAAA,001A0000001aaaaAAA,Renamed deal,Prospecting,200,2025-06-30
006A0000001ccccAAA,001A0000001aaaaAAA,Bad amount,Prospecting,lots,2025-06-30
006A0000001ddddAAA,001A0000001aaaaAAA,Bad date,Prospecting,300,2025-02-30
"""


def test_a_bad_row_leaves_the_database_exactly_as_before(session, connection, tmp_path):
    make_account(session, crm_id="001A0000001aaaaAAA")
    make_opportunity(session, crm_id="006A0000001bbbbAAA", name="Old name")
    before = snapshot(connection)

    outcome = run(session, write_csv(tmp_path, GOOD_AND_BAD))

    assert (outcome.status, outcome.rows, outcome.rejected) == ("rejected", 4, 2)
    assert (outcome.new, outcome.updated) == (1, 1)  # what it would have done: still counted, not written
    assert snapshot(connection) == before
    stored_run = session.get(ImportRun, outcome.run_id)
    assert (stored_run.status, stored_run.rejected, stored_run.filename) == ("rejected", 2, "export.csv")
    rejections = session.execute(
        select(ImportRejection.line, ImportRejection.field, ImportRejection.value)
        .where(ImportRejection.import_run_id == outcome.run_id)
        .order_by(ImportRejection.line)
    ).all()
    assert rejections == [(4, "Amount", "lots"), (5, "CloseDate", "2025-02-30")]
    action = session.scalar(select(AuditEvent.action).where(AuditEvent.target_id == str(outcome.run_id)))
    assert action == "import.rejected"


def test_accept_valid_commits_the_valid_rows_and_reports_the_rest(session, tmp_path):
    make_opportunity(session, crm_id="006A0000001bbbbAAA", name="Old name")
    outcome = run(session, write_csv(tmp_path, GOOD_AND_BAD), accept_valid=True)
    assert (outcome.status, outcome.new, outcome.updated, outcome.rejected) == ("committed", 1, 1, 2)
    names = dict(session.execute(select(Opportunity.crm_id, Opportunity.name)).all())
    assert names == {"006A0000001aaaaAAA": "New deal", "006A0000001bbbbAAA": "Renamed deal"}
    assert [p.line for p in outcome.problems] == [4, 5]


def test_duplicate_ids_in_one_file_refuse_every_copy_naming_the_other_lines(session, tmp_path):
    text = """Id,StageName
006A0000001aaaaAAA,Prospecting
006A0000001bbbbAAA,Prospecting
006A0000001aaaaAAA,Closed Won
006A0000001aaaaAAA,Closed Lost
"""
    outcome = run(session, write_csv(tmp_path, text), accept_valid=True)
    assert (outcome.new, outcome.rejected) == (1, 3)
    assert [(p.line, p.field, p.message) for p in outcome.problems] == [
        (2, "Id", "the id 006A0000001aaaaAAA is also on line 4, 5"),
        (4, "Id", "the id 006A0000001aaaaAAA is also on line 2, 5"),
        (5, "Id", "the id 006A0000001aaaaAAA is also on line 2, 4"),
    ]
    assert session.scalars(select(Opportunity.crm_id)).all() == ["006A0000001bbbbAAA"]


def test_every_bad_field_of_a_row_is_named(session, tmp_path):
    text = "Id,StageName,Amount,CloseDate,IsWon\n006A0000001aaaaAAA,,12abc,13/13/2025,perhaps\n"
    outcome = run(session, write_csv(tmp_path, text))
    assert outcome.rejected == 1
    assert sorted((p.field, p.message.split(":")[0]) for p in outcome.problems) == [
        ("Amount", "not an amount"),
        ("CloseDate", "no such date"),
        ("IsWon", "not a yes/no value"),
        ("StageName", "stage is required"),
    ]
