"""Amounts land in the workspace currency; one in another currency needs a rate or a converted amount."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from ecoops.crm.models import Opportunity
from tests.crm.imports.files import run, write_csv

pytestmark = pytest.mark.all_backends


def _money(session):
    rows = session.execute(
        select(
            Opportunity.crm_id, Opportunity.amount, Opportunity.currency, Opportunity.original_amount
        ).order_by(Opportunity.crm_id)
    )
    return [tuple(row) for row in rows]


def test_another_currency_without_a_rate_is_refused(session, tmp_path):
    text = (
        "Id,StageName,Amount,CurrencyIsoCode\n"
        "1,Prospecting,100,USD\n2,Prospecting,100,EUR\n3,Prospecting,€ 50,\n"
    )
    outcome = run(session, write_csv(tmp_path, text))
    assert [(p.line, p.field) for p in outcome.problems] == [(3, "Amount"), (4, "Amount")]
    assert "the amount is in EUR, not the workspace currency USD" in outcome.problems[0].message


def test_converted_amount_column(session, tmp_path):
    text = (
        "Opportunity ID,Stage,Amount,Opportunity Currency,Amount (converted)\n"
        '1,Prospecting,"1.000,00 €",EUR,"$1,085.00"\n'
        "2,Prospecting,500,USD,500\n"
    )
    outcome = run(session, write_csv(tmp_path, text))
    assert outcome.rejected == 0
    assert _money(session) == [
        ("1", Decimal("1085.00"), "EUR", Decimal("1000.00")),
        ("2", Decimal("500.00"), "USD", Decimal("500.00")),
    ]


def test_exchange_rate_column_through_a_mapping(session, tmp_path):
    text = "Deal,Phase,Value,Cur,Rate\nD1,Won,200.00,GBP,1.25\nD2,Open,(10),usd,\n"
    mapping = {
        "kind": "opportunities",
        "columns": {
            "crm_id": "Deal",
            "stage": "Phase",
            "amount": "Value",
            "currency": "Cur",
            "exchange_rate": "Rate",
        },
    }
    outcome = run(session, write_csv(tmp_path, text), mapping=mapping)
    assert (outcome.source_format, outcome.rejected) == ("custom", 0)
    assert _money(session) == [
        ("D1", Decimal("250.00"), "GBP", Decimal("200.00")),
        ("D2", Decimal("-10.00"), "USD", Decimal("-10.00")),
    ]


def test_a_cell_currency_that_contradicts_the_currency_column(session, tmp_path):
    outcome = run(session, write_csv(tmp_path, "Id,StageName,Amount,CurrencyIsoCode\n1,Prospecting,€5,USD\n"))
    assert outcome.problems[0].message == "the amount is in EUR but the currency column says USD"
