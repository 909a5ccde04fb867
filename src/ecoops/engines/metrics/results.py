"""What every figure function returns: the figures, and the records they were computed from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import pyarrow as pa


@dataclass(frozen=True)
class Explained:
    """`figures` holds one row per cohort (class, stage, partner, …); `records` the rows behind them.

    The figures are aggregated from the very query that yields the records, in one pass; the records
    themselves are fetched the first time they are read, so a dashboard pays only for its figures.
    A figure over an empty cohort is null ("no data"), never 0; counts beside it say how many records
    the cohort held.
    """

    figures: pa.Table
    fetch_records: Callable[[], pa.Table] = field(repr=False, compare=False)

    @cached_property
    def records(self) -> pa.Table:
        return self.fetch_records()
