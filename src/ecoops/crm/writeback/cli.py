"""`ecoops <provider>-writeback [--dry-run]`: one write-back now, in this process (the worker runs the
same after each of its syncs). Exit status: 0 done with nothing failed; 1 done with conflicts or
failed records (listed on the page); 2 it could not run (not connected, the CRM refusing)."""

from __future__ import annotations

from collections.abc import Callable

import typer
from rich.console import Console

from ecoops.actors import cli_actor
from ecoops.config import get_settings
from ecoops.crm.writeback.provider import Provider, run_writeback
from ecoops.db import make_engine, migrate, session_factory
from ecoops.permissions import NotFound

console = Console()


def writeback_command(crm: Provider) -> Callable[[bool], None]:
    def command(
        dry_run: bool = typer.Option(False, "--dry-run", help="List what would change; write nothing."),
    ) -> None:
        settings = get_settings()
        engine = make_engine(settings.effective_database_url)
        migrate(engine)
        try:
            run = run_writeback(
                session_factory(engine),
                settings,
                cli_actor(f"{crm.key}-writeback"),
                crm,
                trigger="cli",
                dry_run=dry_run,
                progress=lambda _done, _total, message: console.print(message),
            )
        except (NotFound, *crm.unavailable) as exc:  # type: ignore[misc]
            console.print(f"[red]{exc}[/]")
            raise typer.Exit(2) from exc
        finally:
            engine.dispose()
        verb = "would be written" if dry_run else "written"
        console.print(
            f"Write-back {run.id} {run.status}: {run.written:,} values {verb}, {run.unchanged:,} unchanged, "
            f"{run.conflicts:,} conflicts, {run.failed:,} failed ({crm.page}/writeback/runs/{run.id})"
        )
        raise typer.Exit(1 if run.conflicts or run.failed else 0)

    command.__doc__ = (
        f"Write the turned-on fields back to {crm.label} now (or, with --dry-run, list what would change)."
    )
    return command
