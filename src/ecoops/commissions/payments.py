"""Payouts without payment rails: approved lines out as a bill-import CSV, a payment file back in.

Each partner's approved lines of a month make one bill, numbered COM-<partner id>-<YYYYMM>; the
payment file names bills and the amounts paid. A file is applied whole or not at all: every row is
checked first, and any error (naming the row and the field) leaves the ledger as it was.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.actors import Actor
from ecoops.commissions.ledger import month_of, period_range
from ecoops.commissions.models import CommissionEntry, Status
from ecoops.commissions.plans import money
from ecoops.partners.models import Partner
from ecoops.permissions import Permission, require

EXPORT_COLUMNS = (
    "Bill Number",
    "Vendor",
    "Vendor ID",
    "Bill Date",
    "Line Description",
    "Amount",
    "Currency",
    "Entry ID",
)
BILL = re.compile(r"^COM-(\d+)-(\d{4})(\d{2})$")
MAX_ROWS = 10_000
REFERENCE_MAX = 120


def bill_number(partner_id: int, period: str) -> str:
    return f"COM-{partner_id}-{period.replace('-', '')}"


def _approved(session: Session) -> list[tuple[CommissionEntry, str]]:
    return [
        (entry, name)
        for entry, name in session.execute(
            select(CommissionEntry, Partner.name)
            .join(Partner, Partner.id == CommissionEntry.partner_id)
            .where(CommissionEntry.status == Status.APPROVED.value)
            .order_by(CommissionEntry.partner_id, CommissionEntry.earned_on, CommissionEntry.id)
        )
    ]


def export_csv(session: Session, actor: Actor) -> str:
    """Every approved, unpaid line as a bill line: one bill per partner and month, dated the month's end."""
    require(actor, Permission.MANAGE_COMMISSIONS)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    for entry, name in _approved(session):
        period = month_of(entry.earned_on)
        _start, end = period_range(period)
        writer.writerow(
            [
                bill_number(entry.partner_id, period),
                name,
                entry.partner_id,
                date.fromordinal(end.toordinal() - 1).isoformat(),
                entry.explanation,
                money(entry.amount_cents).replace(",", ""),
                entry.currency,
                entry.id,
            ]
        )
    return out.getvalue()


class PaymentFileError(ValueError):
    """The payment file cannot be applied; `problems` name each row and field."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Payment:
    bill: str
    amount_cents: int
    paid_on: date
    reference: str


@dataclass(frozen=True)
class PaymentResult:
    bills: int
    lines: int
    total_cents: int


def _column(name: str) -> str:
    return re.sub(r"[\s-]+", "_", name.strip().lower())


def _parse(data: bytes, filename: str) -> list[tuple[int, dict[str, str]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PaymentFileError([f"{filename}: not UTF-8 text; save it as CSV (UTF-8)"]) from None
    reader = csv.reader(io.StringIO(text))
    header = [_column(h) for h in next(reader, [])]
    missing = [c for c in ("bill_number", "amount", "paid_on") if c not in header]
    if missing:
        raise PaymentFileError([f"{filename} row 1: missing column(s) {', '.join(missing)}"])
    rows: list[tuple[int, dict[str, str]]] = []
    for number, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        if len(rows) >= MAX_ROWS:
            raise PaymentFileError([f"{filename}: more than {MAX_ROWS} payments; split the file"])
        rows.append((number, dict(zip(header, (v.strip() for v in values), strict=False))))
    if not rows:
        raise PaymentFileError([f"{filename}: no payments in the file"])
    return rows


def _payment(row: dict[str, str], where: str, problems: list[str]) -> Payment | None:
    bill = row.get("bill_number", "")
    if not BILL.match(bill):
        problems.append(f"{where}, bill_number: {bill!r} is not a bill of ours (COM-<partner>-<YYYYMM>)")
        return None
    try:
        amount = Decimal(row.get("amount", "").replace(",", ""))
        if not amount.is_finite() or amount.as_tuple().exponent < -2:  # type: ignore[operator]
            raise InvalidOperation
    except InvalidOperation:
        problems.append(
            f"{where}, amount: {row.get('amount', '')!r} is not an amount with at most 2 decimals"
        )
        return None
    try:
        paid_on = date.fromisoformat(row.get("paid_on", ""))
    except ValueError:
        problems.append(f"{where}, paid_on: {row.get('paid_on', '')!r} is not a date (YYYY-MM-DD)")
        return None
    reference = row.get("reference", "")
    if len(reference) > REFERENCE_MAX:
        problems.append(f"{where}, reference: at most {REFERENCE_MAX} characters")
        return None
    return Payment(bill, int(amount * 100), paid_on, reference)


def apply_payment_file(session: Session, actor: Actor, data: bytes, filename: str) -> PaymentResult:
    """Mark the approved lines of each bill in the file paid; raises PaymentFileError, writing nothing,
    unless every row names an unpaid bill of approved lines and exactly its total."""
    require(actor, Permission.MANAGE_COMMISSIONS)
    problems: list[str] = []
    bills: dict[str, list[CommissionEntry]] = {}
    for entry, _name in _approved(session):
        bills.setdefault(bill_number(entry.partner_id, month_of(entry.earned_on)), []).append(entry)
    payments: list[tuple[Payment, list[CommissionEntry]]] = []
    seen: dict[str, int] = {}
    for number, row in _parse(data, filename):
        where = f"{filename} row {number}"
        payment = _payment(row, where, problems)
        if payment is None:
            continue
        if payment.bill in seen:
            problems.append(
                f"{where}, bill_number: {payment.bill} is paid on row {seen[payment.bill]} already"
            )
            continue
        seen[payment.bill] = number
        lines = bills.get(payment.bill)
        if not lines:
            problems.append(f"{where}, bill_number: {payment.bill} has no approved, unpaid lines")
            continue
        due = sum(line.amount_cents for line in lines)
        if payment.amount_cents != due:
            problems.append(
                f"{where}, amount: {money(payment.amount_cents)} does not match the bill's approved total "
                f"{money(due)}"
            )
            continue
        payments.append((payment, lines))
    if problems:
        raise PaymentFileError(problems)
    paid: list[int] = []
    with session.begin_nested():  # a bill changed meanwhile undoes the whole file, not just its bill
        _mark_paid(session, actor, payments, filename, paid)
    audit.record(
        session,
        actor,
        "commission_entries.paid",
        "commission_entry",
        None,
        file=filename,
        bills=[p.bill for p, _ in payments],
        entries=paid,
    )
    return PaymentResult(len(payments), len(paid), sum(p.amount_cents for p, _ in payments))


def _mark_paid(
    session: Session,
    actor: Actor,
    payments: list[tuple[Payment, list[CommissionEntry]]],
    filename: str,
    paid: list[int],
) -> None:
    for payment, lines in payments:
        ids = [line.id for line in lines]
        moved = session.execute(
            update(CommissionEntry)
            .where(CommissionEntry.id.in_(ids), CommissionEntry.status == Status.APPROVED.value)
            .values(
                status=Status.PAID.value,
                bill_number=payment.bill,
                paid_on=payment.paid_on,
                payment_reference=payment.reference,
                status_changed_by=actor.label,
                status_changed_at=audit.utcnow(),
            )
        )
        if moved.rowcount != len(ids):  # type: ignore[attr-defined]
            raise PaymentFileError(
                [f"{filename}: bill {payment.bill} changed while the file was applied; try again"]
            )
        paid.extend(ids)
