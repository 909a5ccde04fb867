"""`ecoops backup PATH`, `ecoops restore PATH`: SQLite copies taken while the app runs; PostgreSQL guidance.

A SQLite backup goes through SQLite's online backup API in one step: one read transaction, so the copy
is the database as of one moment, while writers go on (WAL). It is written beside PATH, checked with
`PRAGMA integrity_check`, and only then renamed into place, so PATH is never a half-written file.
On PostgreSQL, `pg_dump` and `pg_restore` do this job better than we could; the commands print them
with this instance's connection options, and do nothing else.

Exit status: 0 done; 1 nothing done (PostgreSQL: the commands to run are printed); 2 refused (a file
that exists, a database that is not empty, a backup that is not an ecoops SQLite database).
"""

from __future__ import annotations

import os
import shlex
import sqlite3
from contextlib import closing
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy.engine import make_url

from ecoops.config import get_settings

console = Console(stderr=True)


class BackupError(Exception):
    """Why a backup or restore was refused; nothing was written."""


def _check(path: Path) -> None:
    """Refuse a file that is not a sound ecoops SQLite database."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            verdict = db.execute("PRAGMA integrity_check").fetchone()[0]
            versions = db.execute("SELECT count(*) FROM alembic_version").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not an ecoops SQLite database ({exc})") from None
    if verdict != "ok":
        raise BackupError(f"{path} failed the integrity check: {verdict}")
    if not versions:
        raise BackupError(f"{path} has no schema version: not an ecoops database")


def _user_tables(path: Path) -> int:
    if not path.exists() or path.stat().st_size == 0:
        return 0
    with closing(sqlite3.connect(path)) as db:
        query = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        count: int = db.execute(query).fetchone()[0]
    return count


def backup_sqlite(source: Path, target: Path, *, force: bool = False) -> None:
    """Copy the database at `source` to `target` while others may write to it."""
    if not source.exists():
        raise BackupError(f"no database at {source}")
    if target.exists() and not force:
        raise BackupError(f"{target} exists; give --force to replace it")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(partial)) as dst:
            src.backup(dst)  # every page in one step: one snapshot, however busy the writers
        _check(partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def restore_sqlite(backup: Path, target: Path, *, force: bool = False) -> None:
    """Replace the database at `target` with the copy at `backup` (stop the app first)."""
    if not backup.exists():
        raise BackupError(f"no backup at {backup}")
    _check(backup)
    if _user_tables(target) and not force:
        raise BackupError(f"the database at {target} is not empty; give --force to overwrite it")
    target.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(backup)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)  # under the destination's write lock: readers see the old or the new, whole


def postgres_commands(url: str, path: Path, *, restore: bool) -> str:
    """The pg_dump / pg_restore line for this database, without its password."""
    parts = make_url(url)
    options = [
        *(["--host", parts.host] if parts.host else []),
        *(["--port", str(parts.port)] if parts.port else []),
        *(["--username", parts.username] if parts.username else []),
        "--dbname",
        parts.database or "",
    ]
    sslmode = parts.query.get("sslmode")
    env = f"PGSSLMODE={shlex.quote(str(sslmode))} " if sslmode else ""
    if restore:
        flags = ["--no-owner", "--clean", "--if-exists", "--exit-on-error"]
        command = ["pg_restore", *options, *flags, str(path)]
    else:
        command = ["pg_dump", *options, "--format=custom", "--no-owner", "--file", str(path)]
    return env + shlex.join(command)


def _sqlite_file(url: str) -> Path | None:
    parts = make_url(url)
    return Path(parts.database) if parts.get_backend_name() == "sqlite" and parts.database else None


def _run(path: Path, force: bool, *, restore: bool) -> None:
    url = get_settings().effective_database_url
    database = _sqlite_file(url)
    if database is None:
        verb = "Restore" if restore else "Back up"
        console.print(
            f"{verb} PostgreSQL with its own tools; ecoops did nothing. The password is not shown: "
            "set PGPASSWORD or use ~/.pgpass.\n"
            + ("Stop ecoops first, then run (and `ecoops db upgrade` after):\n" if restore else "")
            + f"  {escape(postgres_commands(url, path, restore=restore))}",
            soft_wrap=True,
        )
        raise typer.Exit(1)
    try:
        if restore:
            restore_sqlite(path, database, force=force)
        else:
            backup_sqlite(database, path, force=force)
    except BackupError as exc:
        console.print(f"[red]error:[/] {escape(str(exc))}")
        raise typer.Exit(2) from None
    done = f"Restored {database} from {path}" if restore else f"Backed up {database} to {path}"
    console.print(f"[green]{escape(done)}[/] (integrity check: ok)")


def backup_command(
    path: Path = typer.Argument(..., dir_okay=False, help="The file to write the copy to"),
    force: bool = typer.Option(False, "--force", help="Replace PATH if it exists"),
) -> None:
    """Copy the SQLite database to PATH while the app runs (PostgreSQL: prints the pg_dump command)."""
    _run(path, force, restore=False)


def restore_command(
    path: Path = typer.Argument(..., dir_okay=False, help="A copy made by `ecoops backup`"),
    force: bool = typer.Option(False, "--force", help="Overwrite a database that is not empty"),
) -> None:
    """Put a backup in place of the SQLite database; stop the app first (PostgreSQL: prints pg_restore)."""
    _run(path, force, restore=True)
