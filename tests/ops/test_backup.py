"""`ecoops backup` / `restore`: a consistent SQLite copy while others write; refusals that leave files
alone; on PostgreSQL, the pg_dump / pg_restore lines to run, without the password."""

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecoops.cli import app
from ecoops.config import get_settings
from ecoops.db import make_engine, migrate
from ecoops.ops.backup import backup_sqlite


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A migrated SQLite database that ECOOPS_DATABASE_URL names."""
    path = tmp_path / "live.db"
    monkeypatch.setenv("ECOOPS_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("ECOOPS_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    yield path
    get_settings.cache_clear()


def _sql(path: Path, statement: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(path)) as db:
        rows = db.execute(statement).fetchall()
        db.commit()
    return rows


def test_a_backup_taken_while_another_thread_writes_is_whole_and_consistent(database: Path, tmp_path: Path):
    # Each write adds one row to each of two tables in one transaction: in any consistent copy the two
    # counts are equal. Some bulk first, so that copying takes a while.
    _sql(database, "CREATE TABLE left_side (id INTEGER PRIMARY KEY, filler TEXT)")
    _sql(database, "CREATE TABLE right_side (id INTEGER PRIMARY KEY, filler TEXT)")
    _sql(
        database,
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) "
        "INSERT INTO left_side (filler) SELECT hex(randomblob(500)) FROM n",
    )
    _sql(database, "INSERT INTO right_side SELECT * FROM left_side")
    stop, writes = threading.Event(), [0]

    def write() -> None:
        with closing(sqlite3.connect(database, timeout=30, isolation_level=None)) as db:
            db.execute("PRAGMA journal_mode=WAL")
            while not stop.is_set():
                db.execute("BEGIN IMMEDIATE")
                db.execute("INSERT INTO left_side (filler) VALUES (hex(randomblob(500)))")
                db.execute("INSERT INTO right_side (filler) VALUES (hex(randomblob(500)))")
                db.execute("COMMIT")
                writes[0] += 1

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while writes[0] < 20:  # the writer is under way
            stop.wait(0.01)
        copies, before = [], writes[0]
        for n in range(3):
            copy = tmp_path / f"copy{n}.db"
            backup_sqlite(database, copy)
            copies.append(copy)
        during = writes[0]
    finally:
        stop.set()
        writer.join()
    assert during > before  # the writer wrote while the copies were made
    counts = []
    for copy in copies:
        assert _sql(copy, "PRAGMA integrity_check") == [("ok",)]
        ((left, right),) = _sql(
            copy, "SELECT (SELECT count(*) FROM left_side), (SELECT count(*) FROM right_side)"
        )
        assert left == right
        counts.append(left)
    assert 20000 + before <= counts[0] <= counts[1] <= counts[2] <= 20000 + during
    assert not list(tmp_path.glob(".*.partial"))


def test_backup_refuses_to_replace_a_file_without_force(database: Path, tmp_path: Path):
    target = tmp_path / "kept.db"
    target.write_text("something else")
    refused = CliRunner().invoke(app, ["backup", str(target)])
    assert refused.exit_code == 2 and "exists; give --force" in refused.output
    assert target.read_text() == "something else"
    forced = CliRunner().invoke(app, ["backup", str(target), "--force"])
    assert forced.exit_code == 0, forced.output
    assert _sql(target, "SELECT count(*) FROM alembic_version") == [(1,)]


def test_restore_refuses_a_database_that_is_not_empty_unless_forced(database: Path, tmp_path: Path):
    runner = CliRunner()
    copy = tmp_path / "copy.db"
    assert runner.invoke(app, ["backup", str(copy)]).exit_code == 0
    _sql(database, "CREATE TABLE made_after_the_backup (x INTEGER)")

    refused = runner.invoke(app, ["restore", str(copy)])
    assert refused.exit_code == 2 and "is not empty; give --force" in refused.output
    assert _sql(database, "SELECT count(*) FROM sqlite_master WHERE name = 'made_after_the_backup'") == [(1,)]

    forced = runner.invoke(app, ["restore", str(copy), "--force"])
    assert forced.exit_code == 0, forced.output
    assert _sql(database, "SELECT count(*) FROM sqlite_master WHERE name = 'made_after_the_backup'") == [(0,)]
    assert _sql(database, "PRAGMA integrity_check") == [("ok",)]


def test_restore_into_an_empty_database_needs_no_force(database: Path, tmp_path: Path, monkeypatch):
    copy = tmp_path / "copy.db"
    backup_sqlite(database, copy)
    fresh = tmp_path / "fresh" / "new.db"
    monkeypatch.setenv("ECOOPS_DATABASE_URL", f"sqlite:///{fresh}")
    get_settings.cache_clear()
    restored = CliRunner().invoke(app, ["restore", str(copy)])
    assert restored.exit_code == 0, restored.output
    assert _sql(fresh, "SELECT count(*) FROM alembic_version") == [(1,)]


@pytest.mark.parametrize("content", [b"not a database", b""], ids=["text", "empty"])
def test_restore_refuses_a_file_that_is_not_an_ecoops_database(database: Path, tmp_path: Path, content):
    bogus = tmp_path / "bogus.db"
    bogus.write_bytes(content)
    before = database.read_bytes()
    refused = CliRunner().invoke(app, ["restore", str(bogus), "--force"])
    assert refused.exit_code == 2
    assert "not an ecoops" in refused.output
    assert database.read_bytes() == before


def test_on_postgresql_the_commands_are_printed_and_nothing_is_done(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("ECOOPS_DATABASE_URL", "postgresql://ops:s3cret@db.internal:5433/eco?sslmode=require")
    monkeypatch.setenv("ECOOPS_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    try:
        dump = CliRunner().invoke(app, ["backup", str(tmp_path / "eco.dump")])
        load = CliRunner().invoke(app, ["restore", str(tmp_path / "eco.dump")])
    finally:
        get_settings.cache_clear()
    options = "--host db.internal --port 5433 --username ops --dbname eco"
    assert dump.exit_code == 1
    assert f"PGSSLMODE=require pg_dump {options} --format=custom --no-owner --file {tmp_path}/eco.dump" in (
        dump.output
    )
    assert load.exit_code == 1
    assert f"pg_restore {options} --no-owner --clean --if-exists --exit-on-error {tmp_path}/eco.dump" in (
        load.output
    )
    assert "s3cret" not in dump.output + load.output
    assert not (tmp_path / "eco.dump").exists()
