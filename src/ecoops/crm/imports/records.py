"""Turning one CSV row into the typed records a kind stores, or into the problems that refuse it.

A builder is made once per file from its mapping; `build(line, cells)` then returns the row's
records as tuples in the order of `columns` (the stored table's columns), ready for bulk loading.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table

from ecoops.crm.imports.domains import registrable_domain
from ecoops.crm.imports.fields import Kind, required_fields
from ecoops.crm.imports.formats import SALESFORCE_FORMATS, Mapping
from ecoops.crm.imports.values import (
    CellReader,
    DateOrder,
    DateReader,
    is_currency,
    parse_amount,
    parse_count,
    parse_email,
    parse_flag,
    resolve_currency,
    salesforce_id18,
    stage_outcome,
)
from ecoops.crm.models import Account, Contact, Opportunity, OpportunityStageChange

Record = tuple[object, ...]
Money = tuple[Decimal | None, str]  # an amount cell read: (value, currency named in the cell)
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class Problem:
    """Why a row was refused: the line it starts on, the column, the cell and what is wrong."""

    line: int
    field: str
    value: str
    message: str


class RowRejected(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems[0].message)
        self.problems = problems


@dataclass(frozen=True)
class Workspace:
    """What reading depends on beyond the file: the workspace's currency and time zone."""

    currency: str
    tz: ZoneInfo


def column_length(table: Table, column: str) -> int:
    length = getattr(table.c[column].type, "length", None)
    return int(length) if length else 100_000


def text_reader(limit: int) -> CellReader:
    def read(cell: str) -> str:
        value = cell.strip()
        if len(value) > limit:
            raise ValueError(f"{len(value)} characters; at most {limit}")
        return value

    return read


def id_reader(salesforce: bool, *, first_of_list: bool = False) -> CellReader:
    """CRM ids: 64 characters at most; Salesforce's 15-character form is widened to 18."""

    def read(cell: str) -> str:
        value = cell.strip()
        if first_of_list and ";" in value:  # HubSpot lists associated ids with `;`, the primary first
            value = next((part.strip() for part in value.split(";") if part.strip()), "")
        if len(value) > 64:
            raise ValueError(f"an id of {len(value)} characters; at most 64")
        return salesforce_id18(value) if salesforce and len(value) == 15 else value

    return read


def currency_reader(cell: str) -> str:
    value = cell.strip().upper()
    if value and not is_currency(value):
        raise ValueError(f"not an ISO currency code: {cell!r}")
    return value


class RecordBuilder:
    """Reads the mapped cells of a row; subclasses assemble the kind's records from them."""

    kind: Kind
    table: Table
    key: tuple[str, ...] = ("crm_id",)
    columns: tuple[str, ...] = ()

    def __init__(self, mapping: Mapping, headers: list[str], workspace: Workspace, order: DateOrder) -> None:
        self.mapping = mapping
        self.workspace = workspace
        self.width = len(headers)
        self.dates = DateReader(order, workspace.tz)
        self.salesforce = mapping.source_format in SALESFORCE_FORMATS
        position = {header: index for index, header in enumerate(headers)}
        self.readers = [
            (name, header, position[header], self.reader(name))
            for name, header in mapping.columns.items()
            if name in self.readable
        ]
        self.required = [(n, mapping.columns[n]) for n in required_fields(self.kind) if n in mapping.columns]

    @property
    def readable(self) -> dict[str, CellReader]:
        raise NotImplementedError

    def reader(self, name: str) -> CellReader:
        return self.readable[name]

    @property
    def compared(self) -> tuple[str, ...]:
        """The stored columns this file speaks for: only these are compared and updated."""
        return tuple(c for c in self.columns if c in self.mapping.columns and c not in self.key)

    def cells(self, line: int, cells: list[str]) -> dict[str, object]:
        if len(cells) != self.width and (len(cells) < self.width or any(cells[self.width :])):
            raise RowRejected(
                [
                    Problem(
                        line,
                        "",
                        "",
                        f"{len(cells)} cells where the header has {self.width}"
                        + (" (a line break inside an unquoted cell?)" if len(cells) < self.width else ""),
                    )
                ]
            )
        values: dict[str, object] = {}
        problems: list[Problem] = []
        for name, header, index, read in self.readers:
            try:
                values[name] = read(cells[index])
            except ValueError as exc:
                problems.append(Problem(line, header, cells[index], str(exc)))
        for name, header in self.required:
            if values.get(name) in ("", None) and not any(p.field == header for p in problems):
                problems.append(Problem(line, header, "", f"{name.replace('_', ' ')} is required"))
        if problems:
            raise RowRejected(problems)
        return values

    def build(self, line: int, cells: list[str]) -> list[Record]:
        raise NotImplementedError


class AccountRecords(RecordBuilder):
    kind = Kind.ACCOUNTS
    table = cast(Table, Account.__table__)
    columns = (
        "crm_id",
        "name",
        "website",
        "domain",
        "country",
        "industry",
        "account_type",
        "owner",
        "parent_crm_id",
        "employees",
        "created_on",
    )

    @property
    def readable(self) -> dict[str, CellReader]:
        text = {c: text_reader(column_length(self.table, c)) for c in self.columns}
        ids = id_reader(self.salesforce)
        return text | {
            "crm_id": ids,
            "parent_crm_id": ids,
            "domain": str.strip,
            "employees": parse_count,
            "created_on": self.dates,
        }

    @property
    def compared(self) -> tuple[str, ...]:
        derived = ("domain",) if {"domain", "website"} & set(self.mapping.columns) else ()
        return tuple(dict.fromkeys(super().compared + derived))

    def build(self, line: int, cells: list[str]) -> list[Record]:
        v = self.cells(line, cells)
        website = v.get("website", "")
        domain = registrable_domain(str(v.get("domain") or "")) or registrable_domain(str(website))
        return [
            (
                v["crm_id"],
                v["name"],
                website,
                domain,
                v.get("country", ""),
                v.get("industry", ""),
                v.get("account_type", ""),
                v.get("owner", ""),
                v.get("parent_crm_id", ""),
                v.get("employees"),
                v.get("created_on"),
            )
        ]


class OpportunityRecords(RecordBuilder):
    kind = Kind.OPPORTUNITIES
    table = cast(Table, Opportunity.__table__)
    columns = (
        "crm_id",
        "account_crm_id",
        "name",
        "stage",
        "amount",
        "currency",
        "original_amount",
        "created_on",
        "close_date",
        "is_closed",
        "is_won",
        "owner",
        "opportunity_type",
        "lead_source",
        "partner_source",
    )

    def __init__(self, mapping: Mapping, headers: list[str], workspace: Workspace, order: DateOrder) -> None:
        super().__init__(mapping, headers, workspace, order)
        self._outcomes: dict[str, tuple[bool, bool]] = {}

    @property
    def readable(self) -> dict[str, CellReader]:
        text = {c: text_reader(column_length(self.table, c)) for c in self.columns}
        return text | {
            "crm_id": id_reader(self.salesforce),
            "account_crm_id": id_reader(self.salesforce, first_of_list=True),
            "amount": parse_amount,
            "amount_converted": parse_amount,
            "exchange_rate": _rate,
            "currency": currency_reader,
            "created_on": self.dates,
            "close_date": self.dates,
            "is_closed": parse_flag,
            "is_won": parse_flag,
        }

    @property
    def compared(self) -> tuple[str, ...]:
        given = set(self.mapping.columns)
        money = ("amount", "currency", "original_amount") if {"amount", "amount_converted"} & given else ()
        plain = tuple(c for c in super().compared if c not in ("amount", "currency"))
        return plain + money + ("is_closed", "is_won")

    def build(self, line: int, cells: list[str]) -> list[Record]:
        v = self.cells(line, cells)
        stage = str(v["stage"])
        amount, currency, original = self._money(line, v)
        closed, won = self._outcome(line, stage, v.get("is_closed"), v.get("is_won"))
        return [
            (
                v["crm_id"],
                v.get("account_crm_id", ""),
                v.get("name", ""),
                stage,
                amount,
                currency,
                original,
                v.get("created_on"),
                v.get("close_date"),
                closed,
                won,
                v.get("owner", ""),
                v.get("opportunity_type", ""),
                v.get("lead_source", ""),
                v.get("partner_source", ""),
            )
        ]

    def _money(self, line: int, v: dict[str, object]) -> tuple[str | None, str, str | None]:
        """(amount in the workspace currency, the record's currency, its amount in that currency)."""
        workspace = self.workspace.currency
        original, named = cast(Money, v.get("amount") or (None, ""))
        converted, converted_named = cast(Money, v.get("amount_converted") or (None, ""))
        if converted_named and resolve_currency(converted_named, workspace) != workspace:
            raise RowRejected(
                [self._problem(line, "amount_converted", f"the converted amount is not in {workspace}")]
            )
        column = str(v.get("currency") or "")
        named = resolve_currency(named, workspace) if named else ""
        if named and column and named != column:
            raise RowRejected(
                [
                    self._problem(
                        line, "amount", f"the amount is in {named} but the currency column says {column}"
                    )
                ]
            )
        currency = column or named or workspace
        if original is None:
            return _money_text(converted), currency, None
        if currency != workspace and converted is None:
            rate = v.get("exchange_rate")
            if rate is None:
                raise RowRejected(
                    [
                        self._problem(
                            line,
                            "amount",
                            f"the amount is in {currency}, not the workspace currency {workspace}; "
                            "the file needs a converted-amount or exchange-rate column",
                        )
                    ]
                )
            converted = original * cast(Decimal, rate)
        return _money_text(original if currency == workspace else converted), currency, _money_text(original)

    def _outcome(self, line: int, stage: str, closed: object, won: object) -> tuple[bool, bool]:
        told = self._outcomes.get(stage)
        if told is None:
            told = self._outcomes.setdefault(stage, stage_outcome(stage))
        is_won = told[1] if won is None else bool(won) and closed is not False
        is_closed = (is_won or told[0]) if closed is None else bool(closed)
        if is_won and not is_closed:
            raise RowRejected([self._problem(line, "is_won", "marked won but not closed")])
        return is_closed, is_won

    def _problem(self, line: int, name: str, message: str) -> Problem:
        header = self.mapping.columns.get(name, name)
        return Problem(line, header, "", message)


def _rate(cell: str) -> Decimal | None:
    value, named = parse_amount(cell)
    if named or (value is not None and value <= 0):
        raise ValueError(f"not an exchange rate: {cell!r}")
    return value


def _money_text(value: Decimal | None) -> str | None:
    return None if value is None else str(value.quantize(_CENT))


class StageChangeRecords(RecordBuilder):
    """Stage history, long (one row per change) or HubSpot-wide (one `Date entered` column per stage)."""

    kind = Kind.STAGE_HISTORY
    table = cast(Table, OpportunityStageChange.__table__)
    key = ("opportunity_crm_id", "stage", "changed_on")
    columns = ("opportunity_crm_id", "stage", "changed_on", "amount", "is_closed", "is_won")

    def __init__(self, mapping: Mapping, headers: list[str], workspace: Workspace, order: DateOrder) -> None:
        super().__init__(mapping, headers, workspace, order)
        position = {header: index for index, header in enumerate(headers)}
        self.wide = [(stage, header, position[header]) for stage, header in mapping.stage_columns.items()]
        if self.wide:
            self.required = [(n, h) for n, h in self.required if n == "opportunity_crm_id"]

    @property
    def readable(self) -> dict[str, CellReader]:
        return {
            "opportunity_crm_id": id_reader(self.salesforce),
            "stage": text_reader(column_length(self.table, "stage")),
            "changed_on": self.dates,
            "amount": parse_amount,
            "history_field": str.strip,
        }

    @property
    def compared(self) -> tuple[str, ...]:
        return (("amount",) if "amount" in self.mapping.columns else ()) + ("is_closed", "is_won")

    def build(self, line: int, cells: list[str]) -> list[Record]:
        v = self.cells(line, cells)
        if "history_field" in v and str(v["history_field"]).lower() not in ("stagename", "stage"):
            return []  # field history about another field
        opportunity = v["opportunity_crm_id"]
        if not self.wide:
            amount = v.get("amount")
            stage = str(v["stage"])
            money = _money_text(amount[0]) if amount else None  # type: ignore[index]
            return [(opportunity, stage, v["changed_on"], money, *stage_outcome(stage))]
        records: list[Record] = []
        problems: list[Problem] = []
        for stage, header, index in self.wide:
            try:
                entered = self.dates(cells[index])
            except ValueError as exc:
                problems.append(Problem(line, header, cells[index], str(exc)))
                continue
            if entered:
                records.append((opportunity, stage[:120], entered, None, *stage_outcome(stage)))
        if problems:
            raise RowRejected(problems)
        return records


class ContactRecords(RecordBuilder):
    kind = Kind.CONTACTS
    table = cast(Table, Contact.__table__)
    columns = ("crm_id", "account_crm_id", "first_name", "last_name", "email", "title", "phone")

    @property
    def readable(self) -> dict[str, CellReader]:
        text = {c: text_reader(column_length(self.table, c)) for c in self.columns}
        return text | {
            "crm_id": id_reader(self.salesforce),
            "account_crm_id": id_reader(self.salesforce, first_of_list=True),
            "email": parse_email,
        }

    def build(self, line: int, cells: list[str]) -> list[Record]:
        v = self.cells(line, cells)
        return [tuple(v.get(c, "") for c in self.columns)]


BUILDERS: dict[Kind, Callable[[Mapping, list[str], Workspace, DateOrder], RecordBuilder]] = {
    Kind.ACCOUNTS: AccountRecords,
    Kind.OPPORTUNITIES: OpportunityRecords,
    Kind.STAGE_HISTORY: StageChangeRecords,
    Kind.CONTACTS: ContactRecords,
}
