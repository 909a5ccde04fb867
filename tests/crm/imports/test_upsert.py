"""Imports upsert by the CRM's own ids: counts are exact, a second import changes nothing."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from ecoops.crm.models import Account, Contact, Opportunity
from tests.crm.imports.files import run, write_csv
from tests.factories import make_account

pytestmark = pytest.mark.all_backends

ACCOUNTS = (
    "Id,Name,Website,BillingCountry,Industry,Type,Owner.Name,NumberOfEmployees,CreatedDate\n"
    "001A0000001aaaaAAA,Acme Corp,https://www.acme.com/,United States,Software,Customer,"
    'Dana Lee,"1,200",2024-01-15T09:30:00.000Z\n'
    "001A0000001bbbbAAA,Globex,globex.co.uk,United Kingdom,Energy,Prospect,Sam Roe,,"
    "2024-02-01T12:00:00.000Z\n"
    "001A0000001ccccAAA,Initech,,Germany,,Prospect,,85,2024-03-10T00:00:00.000Z\n"
)

OPPORTUNITIES = (
    "Id,AccountId,Name,StageName,Amount,CloseDate,CreatedDate,OwnerId,Partner__c\n"
    "006A0000001aaaaAAA,001A0000001aaaaAAA,Acme expansion,Closed Won,50000,2025-03-31,"
    "2025-01-02T10:00:00.000Z,Dana Lee,001P0000001xxxxAAA\n"
    '006A0000001bbbbAAA,001A0000001bbbbAAA,Globex pilot,Negotiation/Review,"12,500.00",'
    "2025-09-30,2025-05-20T10:00:00.000Z,Sam Roe,\n"
    "006A0000001ccccAAA,001A0000001ccccAAA,Initech lost,Closed Lost,800,2025-04-30,"
    "2025-02-01T10:00:00.000Z,Sam Roe,\n"
)


def test_accounts_new_then_unchanged_then_one_updated(session, tmp_path):
    first = run(session, write_csv(tmp_path, ACCOUNTS))
    assert (first.status, first.rows, first.new, first.updated, first.unchanged, first.rejected) == (
        "committed",
        3,
        3,
        0,
        0,
        0,
    )
    acme = session.scalar(select(Account).where(Account.crm_id == "001A0000001aaaaAAA"))
    assert (acme.name, acme.domain, acme.country, acme.owner, acme.employees, acme.created_on) == (
        "Acme Corp",
        "acme.com",
        "United States",
        "Dana Lee",
        1200,
        date(2024, 1, 15),
    )
    globex = session.scalar(select(Account).where(Account.crm_id == "001A0000001bbbbAAA"))
    assert (globex.domain, globex.employees) == ("globex.co.uk", None)

    again = run(session, write_csv(tmp_path, ACCOUNTS))
    assert (again.new, again.updated, again.unchanged) == (0, 0, 3)

    edited = ACCOUNTS.replace("Globex,globex.co.uk", "Globex Ltd,globex.co.uk")
    third = run(session, write_csv(tmp_path, edited))
    assert (third.new, third.updated, third.unchanged) == (0, 1, 2)
    session.expire_all()
    assert session.scalar(select(Account.name).where(Account.crm_id == "001A0000001bbbbAAA")) == "Globex Ltd"
    assert session.scalar(select(Account.id).where(Account.crm_id == "001A0000001bbbbAAA")) == globex.id


def test_columns_the_file_lacks_are_left_as_stored(session, tmp_path):
    stored = make_account(
        session, crm_id="001A0000001aaaaAAA", name="Acme", industry="Software", owner="Dana"
    )
    outcome = run(session, write_csv(tmp_path, "Id,Name\n001A0000001aaaaAAA,Acme Corporation\n"))
    assert (outcome.new, outcome.updated) == (0, 1)
    session.refresh(stored)
    assert (stored.name, stored.industry, stored.owner) == ("Acme Corporation", "Software", "Dana")


def test_opportunities_with_won_and_closed_told_by_the_stage(session, tmp_path):
    outcome = run(session, write_csv(tmp_path, OPPORTUNITIES))
    assert (outcome.new, outcome.rejected) == (3, 0)
    rows = {
        o.crm_id[:15]: (o.stage, o.amount, o.currency, o.is_closed, o.is_won, o.partner_source, o.created_on)
        for o in session.scalars(select(Opportunity))
    }
    assert rows == {
        "006A0000001aaaa": (
            "Closed Won",
            Decimal("50000.00"),
            "USD",
            True,
            True,
            "001P0000001xxxxAAA",
            date(2025, 1, 2),
        ),
        "006A0000001bbbb": (
            "Negotiation/Review",
            Decimal("12500.00"),
            "USD",
            False,
            False,
            "",
            date(2025, 5, 20),
        ),
        "006A0000001cccc": ("Closed Lost", Decimal("800.00"), "USD", True, False, "", date(2025, 2, 1)),
    }
    assert (run(session, write_csv(tmp_path, OPPORTUNITIES)).unchanged, outcome.updated) == (3, 0)


def test_explicit_won_and_closed_columns_win_over_the_stage_name(session, tmp_path):
    text = (
        "Id,StageName,IsClosed,IsWon\n"
        "006A0000001aaaaAAA,Contract Signed,true,true\n"
        "006A0000001bbbbAAA,Closed Won,false,false\n"
    )
    run(session, write_csv(tmp_path, text))
    flags = dict(session.execute(select(Opportunity.stage, Opportunity.is_won)).all())
    assert flags == {"Contract Signed": True, "Closed Won": False}


def test_dry_run_counts_exactly_and_writes_nothing(session, tmp_path):
    path = write_csv(tmp_path, ACCOUNTS)
    make_account(session, crm_id="001A0000001aaaaAAA", name="Old name")
    dry = run(session, path, dry_run=True)
    assert (dry.status, dry.run_id, dry.new, dry.updated, dry.unchanged) == ("dry_run", None, 2, 1, 0)
    assert session.scalars(select(Account.name)).all() == ["Old name"]
    real = run(session, path)
    assert (real.new, real.updated, real.unchanged) == (dry.new, dry.updated, dry.unchanged)


def test_contacts_link_to_their_account_by_crm_id(session, tmp_path):
    text = """Record ID,First Name,Last Name,Email,Job Title,Phone Number,Associated Company IDs
501,Ada,Lovelace,ADA@Example.com,CTO,+44 20 7946 0000,9001;9002
502,Alan,Turing,,Researcher,,
"""
    outcome = run(session, write_csv(tmp_path, text))
    assert (outcome.source_format, outcome.new) == ("hubspot", 2)
    ada = session.scalar(select(Contact).where(Contact.crm_id == "501"))
    assert (ada.email, ada.account_crm_id, ada.title) == ("ada@example.com", "9001", "CTO")


def test_salesforce_report_ids_link_to_api_ids(session, tmp_path):
    report = (
        "Opportunity ID,Account ID,Opportunity Name,Stage,Close Date\n"
        "006A0000001aaaa,001A0000006Vm9r,Deal,Prospecting,6/30/2025\n"
    )
    run(session, write_csv(tmp_path, report))
    stored = session.scalar(select(Opportunity))
    assert (stored.crm_id, stored.account_crm_id, stored.close_date) == (
        "006A0000001aaaaIAA",
        "001A0000006Vm9rIAC",
        date(2025, 6, 30),
    )
