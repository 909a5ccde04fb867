"""Annotated types the routes and API schemas share, so each rule about a value is written once and the
OpenAPI document declares it: ids the database can hold, page numbers, ISO dates, UTC timestamps."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated

from annotated_types import Interval
from pydantic import AfterValidator, BeforeValidator

from ecoops.pagination import MAX_PAGE, MAX_PER_PAGE

# Primary keys are 32-bit integers on PostgreSQL: a larger id can name no row, and sending it to the
# database fails there (and past 2**63 on SQLite) instead of finding nothing, so it is refused up front.
MAX_ID = 2**31 - 1
Id = Annotated[int, Interval(ge=1, le=MAX_ID)]

PageNumber = Annotated[int, Interval(ge=1, le=MAX_PAGE)]
PerPage = Annotated[int, Interval(ge=1, le=MAX_PER_PAGE)]

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


# Dates people mean; the metrics reach a year back from them, which the calendar's first year cannot.
EARLIEST_DAY, LATEST_DAY = date(1900, 1, 1), date(2999, 12, 31)


def _iso_date(value: object) -> object:
    # Pydantic would read a number as seconds since 1970: `"stage_since": 0` must not mean 1970-01-01.
    if isinstance(value, date) or (isinstance(value, str) and _ISO_DATE.fullmatch(value)):
        return value
    raise ValueError("expected a date written YYYY-MM-DD")


def _plausible(value: date) -> date:
    if not EARLIEST_DAY <= value <= LATEST_DAY:
        raise ValueError(f"expected a date from {EARLIEST_DAY} to {LATEST_DAY}")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date), AfterValidator(_plausible)]


def _as_utc(value: datetime) -> datetime:
    # SQLite hands timestamps back without a zone; every one we store is UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


UtcDateTime = Annotated[datetime, AfterValidator(_as_utc)]
