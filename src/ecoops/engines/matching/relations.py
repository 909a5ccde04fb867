"""Running DuckDB SQL over Arrow tables: one in-memory connection per thread, reused across calls."""

from __future__ import annotations

import threading

import duckdb
import pyarrow as pa

_local = threading.local()
# DuckDB scans an Arrow table one record batch per thread: a single huge batch runs on one core.
_BATCH_ROWS = 1 << 17


def _connection() -> duckdb.DuckDBPyConnection:
    # A connection costs milliseconds to open; scalar helpers call in here once per value.
    con: duckdb.DuckDBPyConnection | None = getattr(_local, "connection", None)
    if con is None:
        con = duckdb.connect(":memory:")
        _local.connection = con
    return con


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
