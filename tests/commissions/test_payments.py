"""Bills out and payments in: the export holds approved lines only, one bill per partner and month; a
payment file is applied whole or not at all, each problem naming its row and field."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.actors import SYSTEM
from ecoops.audit import AuditEvent
from ecoops.commissions import ledger, payments
from ecoops.commissions.models import Status
from ecoops.config import Settings
from tests.commissions.world import accrue, entries, plan, program_with_partners, won_deal


def _approved_month(session: Session, settings: Settings) -> tuple[int, int]:
    """Two partners' March lines approved (100.00 + 250.50 for the first, 40.00 for the second)."""
    program, (first, second) = program_with_partners(session, 2)
    plan(session, program)
    won_deal(session, first, "1000", date(2025, 3, 3))
    won_deal(session, first, "2505", date(2025, 3, 20))
    won_deal(session, second, "400", date(2025, 3, 4))
    won_deal(session, second, "900", date(2025, 4, 4))
    accrue(session, settings, date(2025, 4, 30))
    march = [e.id for e in entries(session) if e.earned_on.month == 3]
    ledger.decide(session, SYSTEM, march, Status.APPROVED)
    return first.id, second.id


def _file(*rows: str) -> bytes:
    return ("Bill Number,Amount,Paid On,Reference\r\n" + "\r\n".join(rows) + "\r\n").encode()


def test_export_is_one_bill_per_partner_and_month_of_approved_lines(
    session: Session, settings: Settings
) -> None:
    first, second = _approved_month(session, settings)
    rows = list(csv.DictReader(io.StringIO(payments.export_csv(session, SYSTEM))))
    assert [(r["Bill Number"], r["Amount"], r["Bill Date"]) for r in rows] == [
        (f"COM-{first}-202503", "100.00", "2025-03-31"),
        (f"COM-{first}-202503", "250.50", "2025-03-31"),
        (f"COM-{second}-202503", "40.00", "2025-03-31"),
    ]


def test_a_payment_file_marks_its_bills_paid(session: Session, settings: Settings) -> None:
    first, _second = _approved_month(session, settings)
    result = payments.apply_payment_file(
        session, SYSTEM, _file(f"COM-{first}-202503,350.50,2025-04-05,WIRE-1"), "bank.csv"
    )
    assert (result.bills, result.lines, result.total_cents) == (1, 2, 35050)
    paid = [e for e in entries(session) if e.status == "paid"]
    assert [(e.partner_id, e.paid_on, e.payment_reference) for e in paid] == [
        (first, date(2025, 4, 5), "WIRE-1")
    ] * 2
    assert session.scalars(
        select(AuditEvent.action).where(AuditEvent.action == "commission_entries.paid")
    ).all()
    # Paid once: the same file again names a bill with nothing left to pay.
    with pytest.raises(payments.PaymentFileError, match="has no approved, unpaid lines"):
        payments.apply_payment_file(
            session, SYSTEM, _file(f"COM-{first}-202503,350.50,2025-04-05"), "bank.csv"
        )


def test_one_bad_row_leaves_every_bill_unpaid_and_each_problem_is_named(
    session: Session, settings: Settings
) -> None:
    first, second = _approved_month(session, settings)
    data = _file(
        f"COM-{first}-202503,350.50,2025-04-05,ok",
        f"COM-{second}-202503,40.01,2025-04-05,",
        "INV-7,1.00,2025-04-05,",
        f"COM-{second}-202503,40.00,5 April,",
    )
    with pytest.raises(payments.PaymentFileError) as raised:
        payments.apply_payment_file(session, SYSTEM, data, "bank.csv")
    assert raised.value.problems == [
        "bank.csv row 3, amount: 40.01 does not match the bill's approved total 40.00",
        "bank.csv row 4, bill_number: 'INV-7' is not a bill of ours (COM-<partner>-<YYYYMM>)",
        "bank.csv row 5, paid_on: '5 April' is not a date (YYYY-MM-DD)",
    ]
    assert not [e for e in entries(session) if e.status == "paid"]


def test_a_file_without_the_columns_is_refused(session: Session, settings: Settings) -> None:
    _approved_month(session, settings)
    with pytest.raises(payments.PaymentFileError, match=r"row 1: missing column\(s\) paid_on"):
        payments.apply_payment_file(session, SYSTEM, b"bill_number,amount\r\nCOM-1-202503,1\r\n", "bank.csv")
