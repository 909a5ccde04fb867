"""Turning one CSV row into the typed records a kind stores, or into the problems that refuse it.

A builder is made once per file from its mapping; `build(line, cells)` then returns the row's
records as tuples in the order of `columns` (the stored table's columns), ready for bulk loading.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import repeat
from operator import and_, itemgetter
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table

from ecoops.crm.imports.domains import account_domain, account_domains
from ecoops.crm.imports.fields import Kind, required_fields
from ecoops.crm.imports.formats import SALESFORCE_FORMATS, Mapping
from ecoops.crm.imports.values import (
    CellReader,
    DateOrder,
    DateReader,
    Remembered,
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


SHOWN_LINES = 5  # other lines a duplicate names: a file of one id on 100,000 lines names 5 each, not 99,999


def other_lines(lines: Sequence[int], line: int) -> str:
    """The first of `lines` other than `line` (ascending), then how many more there are."""
    others = [other for other in lines[: SHOWN_LINES + 1] if other != line][:SHOWN_LINES]
    more = len(lines) - 1 - len(others)
    return ", ".join(map(str, others)) + (f" and {more:,} more" if more else "")


class RowRejected(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems[0].message)
        self.problems = problems


@dataclass(frozen=True)
class Workspace:
    """What reading depends on beyond the file: the workspace's currency and time zone."""

    currency: str
    tz: ZoneInfo


def stored_columns(table: Table, *, leave_out: tuple[str, ...]) -> tuple[str, ...]:
    """The table's columns in their order, less those an import never writes (the surrogate id)."""
    return tuple(column.name for column in table.columns if column.name not in leave_out)


def column_length(table: Table, column: str) -> int:
    length = getattr(table.c[column].type, "length", None)
    return int(length) if length else 100_000


class TextCells:
    """Text cells, stripped, at most `limit` characters."""

    def __init__(self, limit: int) -> None:
        self.limit = limit

    def __call__(self, cell: str) -> str:
        value = cell.strip()
        if len(value) > self.limit:
            raise ValueError(f"{len(value)} characters; at most {self.limit}")
        return value

    def column(self, cells: list[str]) -> list[object]:
        values = list(map(str.strip, cells))
        if values and max(map(len, values)) > self.limit:
            raise ValueError("a cell is too long")
        return values  # type: ignore[return-value]


class IdCells:
    """CRM ids: 64 characters at most; Salesforce's 15-character form is widened to 18."""

    def __init__(self, salesforce: bool, *, first_of_list: bool = False) -> None:
        self.salesforce = salesforce
        self.first_of_list = first_of_list  # HubSpot lists associated ids with `;`, the primary first

    def __call__(self, cell: str) -> str:
        value = cell.strip()
        if self.first_of_list and ";" in value:
            value = next((part.strip() for part in value.split(";") if part.strip()), "")
        if len(value) > 64:
            raise ValueError(f"an id of {len(value)} characters; at most 64")
        return salesforce_id18(value) if self.salesforce and len(value) == 15 else value

    def column(self, cells: list[str]) -> list[object]:
        values = list(map(str.strip, cells))
        lengths = set(map(len, values))
        if max(lengths, default=0) > 64 or (self.first_of_list and ";" in "".join(values)):
            raise ValueError("an id needs a closer look")
        if self.salesforce and 15 in lengths:
            values = list(map(salesforce_id18, values))
        return values  # type: ignore[return-value]


def text_reader(limit: int) -> TextCells:
    return TextCells(limit)


def id_reader(salesforce: bool, *, first_of_list: bool = False) -> IdCells:
    return IdCells(salesforce, first_of_list=first_of_list)


def currency_reader(cell: str) -> str:
    value = cell.strip().upper()
    if value and not is_currency(value):
        raise ValueError(f"not an ISO currency code: {cell!r}")
    return value


# Fields whose cells repeat across a file (a few stages, owners, types for a million rows).
REPEATING = frozenset(
    {
        "stage",
        "owner",
        "account_type",
        "industry",
        "country",
        "opportunity_type",
        "lead_source",
        "partner_source",
        "currency",
        "is_closed",
        "is_won",
        "history_field",
        "partner_type",
        "program",
        "tier",
    }
)


class _Irregular(ValueError):
    """A batch the whole-column fast path does not handle; it is read row by row instead."""


@dataclass
class Batch:
    """Records read from a batch of rows, each prefixed by its line; and the rows refused."""

    records: list[Record]
    problems: list[Problem]
    empty_rows: int = 0  # rows that hold no record (e.g. field history about another field)


def _remembered(name: str, read: CellReader) -> CellReader:
    return Remembered(read) if name in REPEATING else read


def _each(read: CellReader) -> Callable[[list[str]], list[object]]:
    return lambda cells: list(map(read, cells))


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
        self.position = position
        self.defaults: dict[str, object] = {
            name: None if name not in self.table.c or self.table.c[name].nullable else ""
            for name in self.columns
        }
        self._outcomes = Remembered(stage_outcome)
        readable = self.readable
        self.readers: list[tuple[str, str, int, CellReader]] = [
            (name, header, position[header], _remembered(name, readable[name]))
            for name, header in mapping.columns.items()
            if name in readable
        ]
        self.names = [name for name, _header, _index, _read in self.readers]
        self.reads = [(index, read) for _name, _header, index, read in self.readers]
        self.column_reads = [
            (name, index, getattr(read, "column", None) or _each(read))
            for name, _header, index, read in self.readers
        ]
        self.required = [(n, mapping.columns[n]) for n in required_fields(self.kind) if n in mapping.columns]

    @property
    def readable(self) -> dict[str, CellReader]:
        """Field name → reader of its cell."""
        raise NotImplementedError

    def stored_text(self) -> dict[str, CellReader]:
        """Every stored column read as text of its length, and CRM-id columns as ids."""
        cells: dict[str, CellReader] = {c: text_reader(column_length(self.table, c)) for c in self.columns}
        ids, listed = id_reader(self.salesforce), id_reader(self.salesforce, first_of_list=True)
        return cells | {
            c: listed if c == "account_crm_id" else ids for c in self.columns if c.endswith("crm_id")
        }

    @property
    def compared(self) -> tuple[str, ...]:
        """The stored columns this file speaks for: only these are compared and updated."""
        return tuple(c for c in self.columns if c in self.mapping.columns and c not in self.key)

    def cells(self, line: int, cells: list[str]) -> dict[str, object]:
        """The row's mapped cells read, by field name; or every problem the row has."""
        if len(cells) != self.width and (len(cells) < self.width or any(cells[self.width :])):
            short = " (a line break inside an unquoted cell?)" if len(cells) < self.width else ""
            message = f"{len(cells)} cells where the header has {self.width}{short}"
            raise RowRejected([Problem(line, "", "", message)])
        try:
            values = dict(zip(self.names, [read(cells[index]) for index, read in self.reads], strict=True))
        except ValueError:
            raise RowRejected(self._problems(line, cells)) from None
        for name, _header in self.required:
            if not values[name]:
                raise RowRejected(self._problems(line, cells))
        return values

    def _problems(self, line: int, cells: list[str]) -> list[Problem]:
        """The slow path for a bad row: read each cell on its own to name every problem."""
        problems: list[Problem] = []
        empty: set[str] = set()
        for name, header, index, read in self.readers:
            try:
                if read(cells[index]) in ("", None):
                    empty.add(name)
            except ValueError as exc:
                problems.append(Problem(line, header, cells[index], str(exc)))
        problems += [
            Problem(line, header, "", f"{name.replace('_', ' ')} is required")
            for name, header in self.required
            if name in empty
        ]
        return problems

    def build(self, line: int, cells: list[str]) -> list[Record]:
        """One row's records (without their line), or RowRejected naming every problem."""
        raise NotImplementedError

    def build_batch(self, lines: list[int], rows: list[list[str]]) -> Batch:
        """Many rows at once: whole columns when every cell is plain, else row by row (same results)."""
        try:
            return Batch(self.fast_records(lines, rows), [])
        except ValueError:
            return self._row_by_row(lines, rows)

    def fast_records(self, lines: list[int], rows: list[list[str]]) -> list[Record]:
        """The batch's records with their line first, or `ValueError` when a row needs a closer look."""
        raise _Irregular

    def _row_by_row(self, lines: list[int], rows: list[list[str]]) -> Batch:
        batch = Batch([], [])
        for line, cells in zip(lines, rows, strict=True):
            try:
                built = self.build(line, cells)
            except RowRejected as rejected:
                batch.problems += rejected.problems
                continue
            batch.empty_rows += not built
            batch.records += [(line, *record) for record in built]
        return batch

    def read_columns(self, rows: list[list[str]], skip: frozenset[str] = frozenset()) -> dict[str, Any]:
        """Every mapped field's cells, read a whole column at a time; `ValueError` if any is off."""
        if set(map(len, rows)) != {self.width}:
            raise _Irregular
        cells = list(zip(*rows, strict=True))
        columns = {
            name: read(list(cells[index])) for name, index, read in self.column_reads if name not in skip
        }
        for name, _header in self.required:
            if name not in skip and not all(columns[name]):
                raise _Irregular
        return columns

    def record(self, values: dict[str, object]) -> Record:
        """One record in `columns` order; what the file does not give takes the column's default."""
        return tuple(values.get(name, self.defaults[name]) for name in self.columns)

    def records(self, lines: list[int], columns: dict[str, Any]) -> list[Record]:
        """A batch's records from whole columns, each prefixed by its line."""
        cells = [columns[name] if name in columns else repeat(self.defaults[name]) for name in self.columns]
        return list(zip(lines, *cells, strict=False))  # `lines` sets the length; defaults repeat

    def plain_amounts(self, rows: list[list[str]], name: str = "amount") -> list[object]:
        """An amount column as stored when every cell is a plain number (or empty); else `_Irregular`."""
        if name not in self.mapping.columns:
            return [None] * len(rows)
        cells = list(map(itemgetter(self.position[self.mapping.columns[name]]), rows))
        if not _PLAIN_AMOUNTS.fullmatch("\n".join(cells) + "\n"):
            raise _Irregular
        return [cell or None for cell in cells]

    def outcomes(self, stages: list[object]) -> tuple[list[object], list[object]]:
        """(is_closed, is_won) as the stage names tell them."""
        told = cast(list[tuple[bool, bool]], list(map(self._outcomes.__getitem__, cast(list[str], stages))))
        return [closed for closed, _won in told], [won for _closed, won in told]


_PLAIN_AMOUNTS = re.compile(r"(?:(?:-?\d{1,16}(?:\.\d{1,2})?)?\n)*")
_MONEY_FIELDS = frozenset({"amount", "amount_converted", "exchange_rate", "currency"})


class AccountRecords(RecordBuilder):
    kind = Kind.ACCOUNTS
    table = cast(Table, Account.__table__)
    columns = stored_columns(table, leave_out=("id",))

    @property
    def readable(self) -> dict[str, CellReader]:
        return self.stored_text() | {
            "domain": str.strip,
            "employees": parse_count,
            "created_on": self.dates,
        }

    @property
    def compared(self) -> tuple[str, ...]:
        derived = ("domain",) if {"domain", "website"} & set(self.mapping.columns) else ()
        return tuple(dict.fromkeys(super().compared + derived))

    def fast_records(self, lines: list[int], rows: list[list[str]]) -> list[Record]:
        c = self.read_columns(rows)
        blank = [""] * len(rows)
        c["domain"] = account_domains(c.get("domain", blank), c.get("website", blank))
        return self.records(lines, c)

    def build(self, line: int, cells: list[str]) -> list[Record]:
        v = self.cells(line, cells)
        v["domain"] = account_domain(v.get("domain", ""), v.get("website", ""))
        return [self.record(v)]


class OpportunityRecords(RecordBuilder):
    kind = Kind.OPPORTUNITIES
    table = cast(Table, Opportunity.__table__)
    columns = stored_columns(table, leave_out=("id",))

    @property
    def readable(self) -> dict[str, CellReader]:
        return self.stored_text() | {
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

    def fast_records(self, lines: list[int], rows: list[list[str]]) -> list[Record]:
        originals = self.plain_amounts(rows)
        amounts, currencies = self._plain_money(rows, originals)
        c = self.read_columns(rows, skip=_MONEY_FIELDS)
        closed, won = self.outcomes(c["stage"])
        given_closed, given_won = c.get("is_closed"), c.get("is_won")
        if given_closed is not None and given_won is not None and None not in given_closed + given_won:
            closed, won = given_closed, list(map(and_, given_won, given_closed))
        elif given_closed is not None or given_won is not None:
            told = zip(closed, won, given_closed or repeat(None), given_won or repeat(None), strict=False)
            closed, won = [], []
            for told_closed, told_won, is_closed, is_won in told:
                outcome = self._won(bool(told_won), is_closed, is_won)
                won.append(outcome)
                closed.append(self._closed(bool(told_closed), is_closed, outcome))
        c |= {"amount": amounts, "original_amount": originals, "currency": currencies}
        c |= {"is_closed": closed, "is_won": won}
        return self.records(lines, c)

    def _plain_money(self, rows: list[list[str]], originals: list[object]) -> tuple[list[object], Any]:
        """(amount in the workspace currency, currency) a whole column at a time, as `_money` gives them
        row by row, when every row is plain: in the workspace currency, or with a plain converted amount
        (a Salesforce sync's multi-currency opportunities). Else `_Irregular`."""
        mapped, workspace = self.mapping.columns, self.workspace.currency
        if "exchange_rate" in mapped or ("amount_converted" in mapped and "currency" not in mapped):
            raise _Irregular
        if "currency" not in mapped:
            return originals, repeat(workspace)
        codes = [
            c.strip().upper() or workspace for c in map(itemgetter(self.position[mapped["currency"]]), rows)
        ]
        if "amount_converted" not in mapped:
            if set(codes) - {workspace}:
                raise _Irregular
            return originals, repeat(workspace)
        if not all(map(is_currency, set(codes))):
            raise _Irregular
        converted = self.plain_amounts(rows, "amount_converted")
        amounts: list[object] = []
        for original, code, in_workspace in zip(originals, codes, converted, strict=True):
            if original is not None and code != workspace:
                if in_workspace is None:
                    raise _Irregular  # refused row by row: no converted amount
                amounts.append(in_workspace)
            else:
                amounts.append(in_workspace if original is None else original)
        return amounts, codes

    def build(self, line: int, cells: list[str]) -> list[Record]:
        v = self.cells(line, cells)
        amount, currency, original = self._money(line, v)
        closed, won = self._outcome(str(v["stage"]), v.get("is_closed"), v.get("is_won"))
        v |= {"amount": amount, "currency": currency, "original_amount": original}
        v |= {"is_closed": closed, "is_won": won}
        return [self.record(v)]

    def _money(self, line: int, v: dict[str, object]) -> tuple[str | None, str, str | None]:
        """(amount in the workspace currency, the record's currency, its amount in that currency)."""
        workspace = self.workspace.currency
        original, named = cast(Money, v.get("amount") or (None, ""))
        if not named and "amount_converted" not in v and v.get("currency", workspace) in ("", workspace):
            as_text = _money_text(original)  # the common case: already in the workspace currency
            return as_text, workspace, as_text
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

    def _outcome(self, stage: str, closed: object, won: object) -> tuple[bool, bool]:
        """Given flags win over what the stage name tells; won needs closed (a lost flag wins)."""
        told_closed, told_won = cast(tuple[bool, bool], self._outcomes[stage])
        is_won = self._won(told_won, closed, won)
        return self._closed(told_closed, closed, is_won), is_won

    @staticmethod
    def _won(told: bool, closed: object, won: object) -> bool:
        return told if won is None else bool(won) and closed is not False

    @staticmethod
    def _closed(told: bool, closed: object, won: bool) -> bool:
        return (won or told) if closed is None else bool(closed)

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
    columns = stored_columns(table, leave_out=("id", "crm_id"))

    def __init__(self, mapping: Mapping, headers: list[str], workspace: Workspace, order: DateOrder) -> None:
        super().__init__(mapping, headers, workspace, order)
        position = {header: index for index, header in enumerate(headers)}
        self.wide = [(stage, header, position[header]) for stage, header in mapping.stage_columns.items()]
        if self.wide:
            self.required = [(n, h) for n, h in self.required if n == "opportunity_crm_id"]

    @property
    def readable(self) -> dict[str, CellReader]:
        return self.stored_text() | {
            "changed_on": self.dates,
            "amount": parse_amount,
            "history_field": str.strip,
        }

    @property
    def compared(self) -> tuple[str, ...]:
        return (("amount",) if "amount" in self.mapping.columns else ()) + ("is_closed", "is_won")

    def fast_records(self, lines: list[int], rows: list[list[str]]) -> list[Record]:
        if self.wide or "history_field" in self.mapping.columns:
            raise _Irregular
        amounts = self.plain_amounts(rows)
        c = self.read_columns(rows, skip=frozenset({"amount"}))
        closed, won = self.outcomes(c["stage"])
        return self.records(lines, c | {"amount": amounts, "is_closed": closed, "is_won": won})

    def build(self, line: int, cells: list[str]) -> list[Record]:
        v = self.cells(line, cells)
        if "history_field" in v and str(v["history_field"]).lower() not in ("stagename", "stage"):
            return []  # field history about another field
        opportunity = v["opportunity_crm_id"]
        if not self.wide:
            amount = v.get("amount")
            stage = str(v["stage"])
            money = _money_text(amount[0]) if amount else None  # type: ignore[index]
            closed, won = cast(tuple[bool, bool], self._outcomes[stage])
            return [self.record(v | {"amount": money, "is_closed": closed, "is_won": won})]
        records: list[Record] = []
        problems: list[Problem] = []
        for stage, header, index in self.wide:
            try:
                entered = self.dates(cells[index])
            except ValueError as exc:
                problems.append(Problem(line, header, cells[index], str(exc)))
                continue
            if entered:
                closed, won = stage_outcome(stage)
                entry = {
                    "opportunity_crm_id": opportunity,
                    "stage": stage[: column_length(self.table, "stage")],
                    "changed_on": entered,
                }
                records.append(self.record(entry | {"is_closed": closed, "is_won": won}))
        if problems:
            raise RowRejected(problems)
        return records


class ContactRecords(RecordBuilder):
    kind = Kind.CONTACTS
    table = cast(Table, Contact.__table__)
    columns = stored_columns(table, leave_out=("id",))

    @property
    def readable(self) -> dict[str, CellReader]:
        return self.stored_text() | {"email": parse_email}

    def fast_records(self, lines: list[int], rows: list[list[str]]) -> list[Record]:
        c = self.read_columns(rows)
        return self.records(lines, c)

    def build(self, line: int, cells: list[str]) -> list[Record]:
        return [self.record(self.cells(line, cells))]


BUILDERS: dict[Kind, Callable[[Mapping, list[str], Workspace, DateOrder], RecordBuilder]] = {
    Kind.ACCOUNTS: AccountRecords,
    Kind.OPPORTUNITIES: OpportunityRecords,
    Kind.STAGE_HISTORY: StageChangeRecords,
    Kind.CONTACTS: ContactRecords,
}
