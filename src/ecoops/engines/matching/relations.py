"""Running DuckDB SQL over Arrow tables: one in-memory connection per thread, reused across calls."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cache
from typing import Any, TypeVar

import duckdb
import pyarrow as pa

# `project` runs a row-by-row query over slices of its input on every core: DuckDB leaves such string-heavy
# projections on one thread, and normalising a million names is most of a run's time.

_local = threading.local()
T = TypeVar("T")
R = TypeVar("R")
# DuckDB scans an Arrow table one record batch per thread: a single huge batch runs on one core.
_BATCH_ROWS = 1 << 17
# Below this many rows, splitting costs more than it saves.
_PARALLEL_ROWS = 50_000


def _connection() -> duckdb.DuckDBPyConnection:
    # A connection costs milliseconds to open; scalar helpers call in here once per value.
    con: duckdb.DuckDBPyConnection | None = getattr(_local, "connection", None)
    if con is None:
        con = duckdb.connect(":memory:")
        _local.connection = con
    return con


@cache
def _workers() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="ecoops-matching")


@cache
def _background() -> ThreadPoolExecutor:
    # Apart from `_workers`: work here submits its slices there, and must not wait behind itself.
    return ThreadPoolExecutor(max_workers=2, thread_name_prefix="ecoops-matching-background")


def in_background(work: Callable[..., R], *args: Any) -> Future[R]:
    """Start `work(*args)` beside the caller: the Arrow and numpy steps between parallel queries run on one
    core, so independent work done at the same time keeps the other busy."""
    return _background().submit(work, *args)


def on_both_sides(work: Callable[[T], R], ours: T, theirs: T) -> tuple[R, R]:
    """`work(ours)` and `work(theirs)` at once (see `in_background`)."""
    their_result = in_background(work, theirs)
    return work(ours), their_result.result()


def query(sql: str, **tables: pa.Table) -> pa.Table:
    """Run `sql` with each keyword argument visible as a table of that name; return the result as Arrow."""
    con = _connection()
    for name, table in tables.items():
        con.register(name, pa.Table.from_batches(table.to_batches(max_chunksize=_BATCH_ROWS), table.schema))
    try:
        result: pa.Table = con.sql(sql).to_arrow_table()
    finally:
        for name in tables:
            con.unregister(name)
    return result


def project(sql: str, name: str, table: pa.Table) -> pa.Table:
    """Run `sql`, which maps each row of table `name` to one output row, on every core, in row order."""
    parts = os.cpu_count() or 1
    if parts == 1 or table.num_rows < _PARALLEL_ROWS:
        return query(sql, **{name: table})
    size = -(-table.num_rows // parts)
    slices = [table.slice(start, size) for start in range(0, table.num_rows, size)]
    results = list(_workers().map(lambda part: query(sql, **{name: part}), slices))
    return pa.concat_tables(results)
