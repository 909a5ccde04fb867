"""One CRM sync now, in this process (`ecoops salesforce-sync`, `ecoops hubspot-sync`; the worker runs
the same on a schedule). Exit status: 0 the sync finished; 1 a batch was refused (see the run's error
reports on the page); 2 it failed (the CRM unreachable or refusing, not connected). A sync stopped any
way resumes at its checkpoints the next time."""

from __future__ import annotations

import typer
from rich.console import Console

from ecoops.actors import cli_actor
from ecoops.config import get_settings
from ecoops.crm.connections.sync import CrmSync
from ecoops.db import make_engine, migrate, session_factory
from ecoops.permissions import NotFound

console = Console()


def run_sync(kind: type[CrmSync], failures: tuple[type[Exception], ...]) -> None:
    settings = get_settings()
    engine = make_engine(settings.effective_database_url)
    migrate(engine)
    caught: tuple[type[Exception], ...] = (NotFound, *failures)
    try:
        sync = kind(
            session_factory(engine),
            settings,
            cli_actor(f"{kind.provider}-sync"),
            trigger="cli",
            progress=lambda message, _done, _total: console.print(message),
        )
        run = sync.run()
    except caught as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    finally:
        engine.dispose()
    console.print(
        f"Sync {run.id} {run.status}: {run.records:,} records read, {run.new:,} new, "
        f"{run.updated:,} updated, {run.deleted:,} deleted, {run.rejected:,} refused"
    )
    raise typer.Exit(0 if run.status == "done" else 1)
