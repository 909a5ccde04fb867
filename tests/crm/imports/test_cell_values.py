"""Cells as the CRMs export them: amounts with symbols and separators, ISO/US/EU dates, flags, ids."""

from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from ecoops.crm.imports.domains import account_domain
from ecoops.crm.imports.values import (
    DateOrder,
    DateReader,
    parse_amount,
    parse_count,
    parse_flag,
    salesforce_id18,
    stage_outcome,
)


@pytest.mark.parametrize(
    ("cell", "value", "currency"),
    [
        ("1234.5", "1234.5", ""),
        ("$1,234.50", "1234.50", "$"),
        ("1.234,50 €", "1234.50", "EUR"),
        ("EUR 1 234,50", "1234.50", "EUR"),
        ("1\u202f234,50\u00a0€", "1234.50", "EUR"),
        ("£12,000", "12000", "GBP"),
        ("US$ 99.99", "99.99", "USD"),
        ("1,234", "1234", ""),
        ("1,5", "1.5", ""),
        ("1'234'567.25", "1234567.25", ""),
        ("(500.00)", "-500.00", ""),
        ("-$20", "-20", "$"),
        ("1,234,567", "1234567", ""),
        ("", None, ""),
    ],
)
def test_amounts(cell, value, currency):
    assert parse_amount(cell) == (None if value is None else Decimal(value), currency)


@pytest.mark.parametrize("cell", ["1.234", "12,34,5", "abc", "$", "1.2.3,4,5", "€5 USD", "1e5"])
def test_amounts_that_are_refused_rather_than_guessed(cell):
    with pytest.raises(ValueError, match=r"amount|currencies|decimals"):
        parse_amount(cell)


UTC = ZoneInfo("UTC")


@pytest.mark.parametrize(
    ("cell", "order", "iso"),
    [
        ("2025-12-31", DateOrder.MDY, "2025-12-31"),
        ("2025/12/31", DateOrder.MDY, "2025-12-31"),
        ("2025-12-31T23:30:00.000Z", DateOrder.MDY, "2025-12-31"),
        ("2025-12-31T23:30:00.000+0000", DateOrder.MDY, "2025-12-31"),
        ("2025-12-31 09:15", DateOrder.MDY, "2025-12-31"),
        ("12/31/2025", DateOrder.MDY, "2025-12-31"),
        ("12/31/2025 11:05 PM", DateOrder.MDY, "2025-12-31"),
        ("31/12/2025", DateOrder.DMY, "2025-12-31"),
        ("31.12.2025", DateOrder.MDY, "2025-12-31"),  # dots are day-first whatever the file's order
        ("03/04/2025", DateOrder.MDY, "2025-03-04"),
        ("03/04/2025", DateOrder.DMY, "2025-04-03"),
        ("3/4/25", DateOrder.MDY, "2025-03-04"),
        ("", DateOrder.MDY, None),
    ],
)
def test_dates(cell, order, iso):
    assert DateReader(order, UTC)(cell) == iso


def test_a_utc_time_stamp_takes_the_workspace_date():
    assert DateReader(DateOrder.MDY, ZoneInfo("Asia/Tokyo"))("2025-12-31T20:00:00.000Z") == "2026-01-01"
    assert DateReader(DateOrder.MDY, ZoneInfo("America/New_York"))("2026-01-01T03:00:00Z") == "2025-12-31"
    assert DateReader(DateOrder.MDY, ZoneInfo("Europe/Paris"))("2025-06-30T23:30:00-05:00") == "2025-07-01"


@pytest.mark.parametrize(
    ("cell", "order", "message"),
    [
        ("31/12/2025", DateOrder.MDY, "day-first, but this file's dates are read as MDY"),
        ("12/31/2025", DateOrder.DMY, "month-first, but this file's dates are read as DMY"),
        ("2025-02-30", DateOrder.MDY, "no such date"),
        ("31.02.2025", DateOrder.MDY, "no such date"),
        ("Dec 31, 2025", DateOrder.MDY, "not a date"),
    ],
)
def test_dates_that_are_refused(cell, order, message):
    with pytest.raises(ValueError, match=message):
        DateReader(order, UTC)(cell)


def test_flags():
    assert [parse_flag(c) for c in ("true", "FALSE", "1", "0", "Yes", "n", "")] == [
        True,
        False,
        True,
        False,
        True,
        False,
        None,
    ]
    with pytest.raises(ValueError, match="not a yes/no value"):
        parse_flag("maybe")


def test_counts():
    assert [parse_count(c) for c in ("1,200", "1 200", "85", "")] == [1200, 1200, 85, None]
    with pytest.raises(ValueError, match="whole number"):
        parse_count("12.5k")


def test_salesforce_15_character_ids_widen_to_the_api_form():
    # Worked by hand: each block of five gives one letter, bit i set when character i is upper case.
    assert salesforce_id18("001A0000006Vm9r") == "001A0000006Vm9rIAC"
    assert salesforce_id18("003i000001cYOTo") == "003i000001cYOToAAO"
    assert salesforce_id18("001A0000006Vm9rIAC") == "001A0000006Vm9rIAC"
    assert salesforce_id18("12345") == "12345"


@pytest.mark.parametrize(
    ("stage", "closed", "won"),
    [
        ("Closed Won", True, True),
        ("closedwon", True, True),
        ("Won", True, True),
        ("Closed Lost", True, False),
        ("closedlost", True, False),
        ("Prospecting", False, False),
        ("Negotiation/Review", False, False),
    ],
)
def test_stage_names_tell_closed_and_won(stage, closed, won):
    assert stage_outcome(stage) == (closed, won)


@pytest.mark.parametrize(
    ("value", "domain"),
    [
        ("https://www.Acme.com/about?x=1", "acme.com"),
        ("acme.com", "acme.com"),
        ("http://shop.acme.co.uk:8080", "acme.co.uk"),
        ("WWW.ACME.ORG.", "acme.org"),
        ("www.example.org", ""),  # reserved placeholder, never a key
        ("sales@acme.io", "acme.io"),
        ("xn--mnchen-3ya.de", "münchen.de"),
        ("n/a", ""),
        ("10.0.0.1", ""),
        ("jane@gmail.com", ""),
        ("", ""),
    ],
)
def test_domains(value, domain):
    assert account_domain(value, "") == domain
    assert account_domain("", value) == domain  # the website cell is read the same way


def test_domain_cell_wins_over_website():
    assert account_domain("acme.com", "https://www.acme-group.de") == "acme.com"
    assert account_domain("gmail.com", "https://www.acme-group.de") == "acme-group.de"
