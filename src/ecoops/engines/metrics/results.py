"""What every figure function returns: the figures, and the records they were computed from."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa


@dataclass(frozen=True)
class Explained:
    """`figures` holds one row per cohort (class, stage, partner, …); `records` the rows behind them.

    A figure over an empty cohort is null ("no data"), never 0; counts beside it say how many records
    the cohort held.
    """

    figures: pa.Table
    records: pa.Table
