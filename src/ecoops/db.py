"""Database engine, sessions and migrations: SQLite (WAL, synchronous=FULL) or PostgreSQL.

SQLite has one writer at a time. A transaction that reads first and writes later (SQLite's default,
deferred) cannot wait for that lock: when another connection committed in between, its snapshot is
stale and it fails at once with "database is locked", whatever the busy timeout. So every SQLite
transaction takes the write lock when it begins (`BEGIN IMMEDIATE`, waiting up to the busy timeout),
except those opened with `READ_ONLY` (the web's GET requests), which never block writers in WAL mode.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, create_engine, event
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from ecoops import data_version  # noqa: F401  (registers the listeners that keep the data version)

# Named constraints from day one: Alembic needs names to alter constraints on SQLite.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not pysqlite, decide where transactions begin (so SAVEPOINTs work too).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


# How long a SQLite writer waits for the lock before giving up (then the web retries the request).
BUSY_TIMEOUT_MS = 30_000
# Execution options for a transaction that only reads: on SQLite it begins deferred (see above).
READ_ONLY = {"ecoops_read_only": True}


def _sqlite_begin(connection: Connection) -> None:
    read_only = connection.get_execution_options().get("ecoops_read_only", False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


CONNECT_TIMEOUT_SECONDS = 10


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`; SQLite files get their folder created and the pragmas we rely on."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"check_same_thread": False})
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    # A server that does not answer fails a connection in seconds (libpq's default waits for ever):
    # /readyz then says unavailable instead of hanging, and requests fail instead of piling up.
    if "connect_timeout" not in url:
        kwargs.setdefault("connect_args", {"connect_timeout": CONNECT_TIMEOUT_SECONDS})
    return create_engine(url, pool_pre_ping=True, **kwargs)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One command, one transaction: commit if the block succeeds, roll back otherwise."""
    with factory() as session, session.begin():
        yield session


def migrate(engine: Engine, revision: str = "heads") -> None:
    """Bring the schema to `revision` with Alembic (the only way tables are created).

    "heads" rather than "head": domains developed side by side each add a migration branching from
    the same parent, and a merge revision joins them later; until then every branch still applies.
    """
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def is_write_conflict(exc: BaseException) -> bool:
    """Whether `exc` is a transient clash between writers, which the same work retried would pass.

    SQLite: the write lock not had within the busy timeout, or a deferred reader's stale snapshot.
    PostgreSQL: a serialization failure or a deadlock (SQLSTATE 40001, 40P01).
    """
    if not isinstance(exc, DBAPIError):
        return False
    original = exc.orig
    if isinstance(exc, OperationalError) and "database is locked" in str(original):
        return True
    return getattr(original, "sqlstate", None) in {"40001", "40P01"}
