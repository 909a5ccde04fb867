"""Stage history from Salesforce's two history objects and HubSpot's Date-entered columns."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from ecoops.crm.imports.fields import Kind
from ecoops.crm.models import OpportunityStageChange
from tests.crm.imports.files import run, write_csv

pytestmark = pytest.mark.all_backends

# OpportunityHistory writes a row for every amount or close-date edit, in the same stage.
OPPORTUNITY_HISTORY = """Id,OpportunityId,CreatedDate,StageName,Amount,CloseDate
008A01,006A0000001aaaaAAA,2025-01-02T10:00:00.000Z,Prospecting,1000,2025-06-30
008A02,006A0000001aaaaAAA,2025-01-09T10:00:00.000Z,Prospecting,1500,2025-06-30
008A03,006A0000001aaaaAAA,2025-02-01T10:00:00.000Z,Negotiation/Review,1500,2025-06-30
008A05,006A0000001aaaaAAA,2025-03-15T10:00:00.000Z,Closed Won,1400,2025-03-15
008A04,006A0000001aaaaAAA,2025-02-20T10:00:00.000Z,Negotiation/Review,1400,2025-06-30
008B01,006A0000001bbbbAAA,2025-01-05T10:00:00.000Z,Prospecting,200,2025-04-30
"""


def _history(session):
    statement = select(OpportunityStageChange).order_by(
        OpportunityStageChange.opportunity_crm_id, OpportunityStageChange.changed_on
    )
    return [
        (c.opportunity_crm_id[-4:], c.stage, c.changed_on, c.amount, c.is_won)
        for c in session.scalars(statement)
    ]


def test_opportunity_history_keeps_only_stage_changes(session, tmp_path):
    outcome = run(session, write_csv(tmp_path, OPPORTUNITY_HISTORY))
    assert (outcome.kind, outcome.rows, outcome.new, outcome.unchanged) == (Kind.STAGE_HISTORY, 6, 4, 2)
    assert _history(session) == [
        ("aAAA", "Prospecting", date(2025, 1, 2), Decimal("1000.00"), False),
        ("aAAA", "Negotiation/Review", date(2025, 2, 1), Decimal("1500.00"), False),
        ("aAAA", "Closed Won", date(2025, 3, 15), Decimal("1400.00"), True),
        ("bAAA", "Prospecting", date(2025, 1, 5), Decimal("200.00"), False),
    ]
    again = run(session, write_csv(tmp_path, OPPORTUNITY_HISTORY))
    assert (again.new, again.updated, again.unchanged) == (0, 0, 6)


def test_field_history_reads_only_stage_changes(session, tmp_path):
    text = """Id,OpportunityId,CreatedDate,Field,OldValue,NewValue
017A01,006A0000001aaaaAAA,2025-01-09T10:00:00.000Z,Amount,1000,1500
017A02,006A0000001aaaaAAA,2025-02-01T10:00:00.000Z,StageName,Prospecting,Negotiation/Review
017A03,006A0000001aaaaAAA,2025-03-15T10:00:00.000Z,StageName,Negotiation/Review,Closed Won
"""
    outcome = run(session, write_csv(tmp_path, text))
    assert (outcome.new, outcome.unchanged) == (2, 1)
    assert [row[1:3] for row in _history(session)] == [
        ("Negotiation/Review", date(2025, 2, 1)),
        ("Closed Won", date(2025, 3, 15)),
    ]


def test_hubspot_date_entered_columns(session, tmp_path):
    text = '''Record ID,Deal Name,Deal Stage,\
"Date entered ""Appointment Scheduled (Sales Pipeline)""",\
"Date entered ""Closed Won (Sales Pipeline)""",\
"Date exited ""Appointment Scheduled (Sales Pipeline)"""
9001,Big deal,Closed Won,2025-01-10 09:00,2025-02-20 16:30,2025-02-20 16:30
9002,Small deal,Appointment Scheduled,2025-03-01 10:00,,
9003,No dates,Appointment Scheduled,,,
'''
    outcome = run(session, write_csv(tmp_path, text), kind=Kind.STAGE_HISTORY)
    assert (outcome.source_format, outcome.rows, outcome.new, outcome.unchanged) == ("hubspot", 3, 3, 1)
    assert [row[:3] for row in _history(session)] == [
        ("9001", "Appointment Scheduled", date(2025, 1, 10)),
        ("9001", "Closed Won", date(2025, 2, 20)),
        ("9002", "Appointment Scheduled", date(2025, 3, 1)),
    ]


def test_an_amount_added_later_updates_the_entry(session, tmp_path):
    run(
        session,
        write_csv(
            tmp_path, "OpportunityId,StageName,CreatedDate\n006A0000001aaaaAAA,Prospecting,2025-01-02\n"
        ),
    )
    with_amount = (
        "OpportunityId,StageName,CreatedDate,Amount\n006A0000001aaaaAAA,Prospecting,2025-01-02,900\n"
    )
    outcome = run(session, write_csv(tmp_path, with_amount))
    assert (outcome.new, outcome.updated) == (0, 1)
    assert _history(session)[0][3] == Decimal("900.00")
