"""A write on another SQLite connection that gives up quickly: proof that nobody else holds the lock."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine


@contextmanager
def impatient_writer(engine: Engine, wait_ms: int = 100) -> Iterator[Any]:
    """A cursor inside `BEGIN IMMEDIATE`, committed after the block; raises sqlite3.OperationalError
    ("database is locked") when another connection holds the write lock for longer than `wait_ms`."""
    raw = engine.raw_connection()
    raw.detach()  # closed afterwards, not pooled with this busy timeout
    try:
        cursor = raw.cursor()
        cursor.execute(f"PRAGMA busy_timeout={wait_ms}")
        cursor.execute("BEGIN IMMEDIATE")
        try:
            yield cursor
            cursor.execute("COMMIT")
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
    finally:
        raw.close()
