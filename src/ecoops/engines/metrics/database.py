"""The process's one in-memory DuckDB database, on which every snapshot opens its own connection."""

from __future__ import annotations

from functools import cache

import duckdb


@cache
def _database() -> duckdb.DuckDBPyConnection:
    database = duckdb.connect(":memory:")
    database.execute("SET preserve_insertion_order = false")
    return database


def connection() -> duckdb.DuckDBPyConnection:
    """A fresh connection: its temporary tables, views, macros and registered tables are its own.

    Opening a database costs ~60 ms and a connection (cursor) on an open one next to nothing, so
    small snapshots (a page, a test) stay cheap.
    """
    return _database().cursor()


def text_list(values: tuple[str, ...]) -> str:
    """A SQL list literal of `values` (quotes doubled), for macros that test membership in a setting."""
    return "[" + ", ".join("'" + value.replace("'", "''") + "'" for value in values) + "]"
