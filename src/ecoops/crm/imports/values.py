"""Reading one cell: amounts, dates, yes/no flags, counts, e-mails and CRM ids, as both CRMs export them.

Every reader raises `ValueError` with a message meant for the person who made the file; the
pipeline adds the line and the column.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import lru_cache
from operator import itemgetter
from zoneinfo import ZoneInfo

import pycountry

CellReader = Callable[[str], object]

MAX_AMOUNT = Decimal(10) ** 16  # Numeric(18, 2)
_CENT = Decimal("0.01")
_PLAIN_AMOUNT = re.compile(r"-?\d{1,16}(?:\.\d{1,2})?")
_AMOUNT = re.compile(
    r"(?P<sign>[-+\u2212])?\s*(?P<pre>[A-Za-z]{3}|[A-Z]{0,2}\$|[€£¥₹])?\s*(?P<sign2>[-+\u2212])?\s*"
    r"(?P<number>\d[\d.,'\s]*)\s*(?P<post>[A-Za-z]{3}|[€£¥₹]|\$)?"
)
_SYMBOLS = {"€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "US$": "USD", "CA$": "CAD", "C$": "CAD"}
_SYMBOLS |= {"A$": "AUD", "AU$": "AUD", "NZ$": "NZD", "HK$": "HKD", "S$": "SGD"}
DOLLAR = "$"  # a bare dollar sign: the workspace's dollar, or USD (see `resolve_currency`)


def parse_amount(text: str) -> tuple[Decimal | None, str]:
    """An amount cell → (value, currency named in the cell or "").

    Accepts `1234.5`, `$1,234.50`, `1.234,50 €`, `EUR 1 234,50`, `(500.00)` (negative), `-$20`.
    The last `.` or `,` is the decimal separator when both appear; a lone `,` followed by exactly
    three digits groups thousands (`1,234` is 1234) while a lone `.` is a decimal point (`1.234`
    is refused for having three decimals, never silently read as 1234). At most two decimals.
    """
    text = text.strip()
    if not text:
        return None, ""
    if _PLAIN_AMOUNT.fullmatch(text):
        return Decimal(text), ""
    negative = text.startswith("(") and text.endswith(")")
    match = _AMOUNT.fullmatch(text[1:-1].strip() if negative else text)
    if match is None:
        raise ValueError(f"not an amount: {text!r}")
    pre, post = match["pre"] or "", match["post"] or ""
    if pre and post:
        raise ValueError(f"two currencies in one amount: {text!r}")
    negative = negative or bool({match["sign"], match["sign2"]} & {"-", "\u2212"})
    value = Decimal(_plain_number(match["number"], text))
    if value.as_tuple().exponent < -2 and value != value.quantize(_CENT):  # type: ignore[operator]
        raise ValueError(f"amount {text!r} has more than two decimals")
    if abs(value) >= MAX_AMOUNT:
        raise ValueError(f"amount {text!r} is too large")
    symbol = pre or post
    currency = _SYMBOLS.get(symbol, DOLLAR if symbol.endswith("$") else symbol.upper())
    if len(currency) == 3 and not is_currency(currency):
        raise ValueError(f"not an amount: {text!r} ({currency} is no currency)")
    return (-value if negative else value), currency


@lru_cache(maxsize=512)
def is_currency(code: str) -> bool:
    """An ISO 4217 code (USD, EUR, …)."""
    return pycountry.currencies.get(alpha_3=code.upper()) is not None


def _plain_number(number: str, original: str) -> str:
    digits = re.sub(r"[\s']", "", number)
    last_dot, last_comma = digits.rfind("."), digits.rfind(",")
    if last_dot >= 0 and last_comma >= 0:
        decimal_mark = "." if last_dot > last_comma else ","
    elif last_comma >= 0:
        single_group = digits.count(",") == 1 and len(digits) - last_comma - 1 == 3
        decimal_mark = "." if single_group or digits.count(",") > 1 else ","
    else:
        decimal_mark = "." if digits.count(".") <= 1 else ","
    grouping = "," if decimal_mark == "." else "."
    whole, _, fraction = digits.rpartition(decimal_mark) if decimal_mark in digits else (digits, "", "")
    if grouping in fraction or (grouping in whole and not _grouped_by_three(whole, grouping)):
        raise ValueError(f"not an amount: {original!r}")
    plain = whole.replace(grouping, "") + ("." + fraction if fraction else "")
    try:
        Decimal(plain)
    except InvalidOperation:
        raise ValueError(f"not an amount: {original!r}") from None
    return plain


def _grouped_by_three(whole: str, separator: str) -> bool:
    first, *groups = whole.split(separator)
    return 1 <= len(first) <= 3 and all(len(group) == 3 for group in groups)


def resolve_currency(named: str, workspace_currency: str) -> str:
    """A bare `$` is the workspace's own dollar when it has one, else the US dollar."""
    if named == DOLLAR:
        return workspace_currency if workspace_currency.endswith("D") else "USD"
    return named


class Remembered(dict[str, object]):
    """A column's reader that reads each distinct cell once; lookups of the rest cost a dict hit."""

    LIMIT = 10_000

    def __init__(self, read: CellReader) -> None:
        super().__init__()
        self.read = read

    def __missing__(self, cell: str) -> object:
        value = self.read(cell)  # a ValueError is raised again for every such cell, never remembered
        if len(self) < self.LIMIT:
            self[cell] = value
        return value

    def __call__(self, cell: str) -> object:
        return self[cell]

    def column(self, cells: list[str]) -> list[object]:
        return list(map(self.__getitem__, cells))


class DateOrder(StrEnum):
    """How to read a date like 03/04/2025 whose day and month could be either way round."""

    MDY = "MDY"  # 03/04/2025 is 4 March (Salesforce and HubSpot in US locales)
    DMY = "DMY"  # 03/04/2025 is 3 April (most of Europe)


_ISO = re.compile(
    r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})"
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?)?"
)
_DATE_PART = itemgetter(slice(0, 10))
_LOCAL_OR_UTC_TIME = re.compile(r"[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(Z|[+-]00:?00)?")
_LOCAL = re.compile(
    r"(\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d{2})"
    r"(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?"
)


def date_order_evidence(text: str) -> DateOrder | None:
    """What one cell says about the file's date order: only unambiguous dates say anything."""
    match = _LOCAL.fullmatch(text.strip())
    if match is None:
        return None
    first, separator, second = int(match[1]), match[2], int(match[3])
    if separator == "." or first > 12 >= second:
        return DateOrder.DMY
    if second > 12 >= first:
        return DateOrder.MDY
    return None


class DateReader:
    """Reads date cells into ISO strings (`2025-12-31`), the form both databases store.

    ISO dates and date-times; US `12/31/2025` and EU `31/12/2025`, `31.12.2025` (dots are always
    day-first); two-digit years are 20xx. Ambiguous slash dates follow the file's `order`; a cell
    that contradicts it is refused. A time with a UTC offset (Salesforce's `CreatedDate`) is moved
    to the workspace's time zone before its date is taken; a time without one is already local.
    """

    def __init__(self, order: DateOrder, tz: ZoneInfo) -> None:
        self.order = order
        self.tz = tz
        self.utc_workspace = tz.key in ("UTC", "Etc/UTC")
        self._dates = Remembered(self._read_cell)  # date cells repeat: each distinct one is read once
        offset = r"(?:Z|[+-]00:?00)?" if self.utc_workspace else ""
        self._stamps = re.compile(
            rf"(?:(?:\d{{4}}-\d{{2}}-\d{{2}}(?:[T ]\d{{1,2}}:\d{{2}}(?::\d{{2}}(?:[.,]\d+)?)?{offset})?)?\n)*"
        )

    def __call__(self, text: str) -> str | None:
        if len(text) > 10 and text[10] in "T " and text[4] == "-":
            tail = _LOCAL_OR_UTC_TIME.fullmatch(text, 10)
            if tail is not None and (self.utc_workspace or not tail[1]):
                # A time stamp whose date needs no time-zone move: its date alone is read.
                return self._dates[text[:10]]  # type: ignore[return-value]
            return self._read_cell(text)
        return self._dates[text]  # type: ignore[return-value]

    def column(self, cells: list[str]) -> list[object]:
        """A whole column at once: ISO time stamps read by their date (when no zone move is needed)."""
        heads = list(map(_DATE_PART, cells))
        if heads != cells and not self._stamps.fullmatch("\n".join(cells) + "\n"):
            raise ValueError("a date needs a closer look")
        return list(map(self._dates.__getitem__, heads))

    def _read_cell(self, text: str) -> str | None:
        value = text.strip()
        return self._read(value) if value else None

    def _read(self, value: str) -> str:
        match = _ISO.fullmatch(value)
        if match is not None:
            year, month, day = int(match[1]), int(match[2]), int(match[3])
            offset = match[7]
            if offset and not (self.utc_workspace and offset in ("Z", "+0000", "+00:00")):
                return self._local_date(value, year, month, day, match)
            return _iso(year, month, day, value)
        match = _LOCAL.fullmatch(value)
        if match is None:
            raise ValueError(f"not a date: {value!r} (use 2025-12-31, 12/31/2025 or 31.12.2025)")
        first, second = int(match[1]), int(match[3])
        year = int(match[4]) + (2000 if len(match[4]) == 2 else 0)
        evidence = date_order_evidence(value)
        order = evidence or self.order
        if match[2] != "." and evidence is not None and evidence != self.order:
            raise ValueError(
                f"{value!r} is {'day' if evidence == DateOrder.DMY else 'month'}-first, but this file's "
                f"dates are read as {self.order.value}; set the date order to {evidence.value}"
            )
        month, day = (first, second) if order == DateOrder.MDY else (second, first)
        return _iso(year, month, day, value)

    def _local_date(self, value: str, year: int, month: int, day: int, match: re.Match[str]) -> str:
        _iso(year, month, day, value)
        offset = match[7].replace(":", "")
        sign = -1 if offset.startswith("-") else 1
        minutes = 0 if offset == "Z" else sign * (int(offset[1:3]) * 60 + int(offset[3:5]))
        moment = (
            datetime(
                year, month, day, int(match[4]), int(match[5]), int(match[6] or 0), tzinfo=UTC
            ).timestamp()
            - minutes * 60
        )
        return datetime.fromtimestamp(moment, self.tz).date().isoformat()


def _iso(year: int, month: int, day: int, original: str) -> str:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        raise ValueError(f"no such date: {original!r}") from None


_FLAGS: dict[str, bool | None] = {"": None}
_FLAGS |= dict.fromkeys(("true", "1", "yes", "y", "t", "x"), True)
_FLAGS |= dict.fromkeys(("false", "0", "no", "n", "f"), False)
_FLAGS |= {key.upper(): value for key, value in _FLAGS.items()} | {"True": True, "False": False}


def parse_flag(text: str) -> bool | None:
    """`true/false`, `1/0`, `yes/no`, `y/n`; empty means "not given" (None)."""
    if text in _FLAGS:  # the exported spellings, without the work below
        return _FLAGS[text]
    value = text.strip().lower()
    if value in _FLAGS:
        return _FLAGS[value]
    raise ValueError(f"not a yes/no value: {text!r} (use true/false, yes/no or 1/0)")


def parse_count(text: str) -> int | None:
    """A whole number such as an employee count; `1,200` and `1 200` are accepted."""
    value = re.sub(r"[\s,.']", "", text.strip())
    if not value:
        return None
    if not value.isdigit() or len(value) > 9:
        raise ValueError(f"not a whole number: {text!r}")
    return int(value)


def parse_email(text: str) -> str:
    value = text.strip().lower()
    if value and (value.count("@") != 1 or value.startswith("@") or "." not in value.rsplit("@", 1)[1]):
        raise ValueError(f"not an e-mail address: {text!r}")
    return value


_SF_ID = re.compile(r"[a-zA-Z0-9]{15}")
_SF_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def salesforce_id18(value: str) -> str:
    """Salesforce reports export 15-character ids, the API 18; store the 18-character form so both link.

    The three extra characters encode which of the 15 are upper case, five at a time.
    """
    if len(value) != 15 or not _SF_ID.fullmatch(value):
        return value
    suffix = ""
    for block in range(3):
        bits = sum(1 << i for i, char in enumerate(value[block * 5 : block * 5 + 5]) if "A" <= char <= "Z")
        suffix += _SF_SUFFIX[bits]
    return value + suffix


def stage_outcome(stage: str) -> tuple[bool, bool]:
    """(is_closed, is_won) told by the stage's name when the file has no such columns.

    "Closed Won", "closedwon", "Won" → closed and won; "Closed Lost", "closedlost", "Lost",
    "Closed" → closed, not won; any other stage is open.
    """
    letters = re.sub(r"[^a-z]", "", stage.lower())
    won = letters in ("won", "closedwon") or letters.startswith("closedwon")
    closed = won or letters in ("lost", "closed", "closedlost") or letters.startswith("closedlost")
    return closed, won
