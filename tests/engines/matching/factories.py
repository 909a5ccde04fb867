"""Small account tables for matcher tests: one row per keyword-argument dict."""

import pyarrow as pa

COLUMNS = ("id", "name", "website", "country")


def accounts(*rows: dict[str, str | None], columns: tuple[str, ...] = COLUMNS) -> pa.Table:
    """An accounts table with `columns`, each row giving some of them (the rest are null)."""
    return pa.table({c: pa.array([r.get(c) for r in rows], pa.string()) for c in columns})


def pairs(result_table: pa.Table) -> set[tuple[str, str, str]]:
    """(our_id, their_id, method) of each matched pair."""
    return set(
        zip(*(result_table.column(c).to_pylist() for c in ("our_id", "their_id", "method")), strict=True)
    )
