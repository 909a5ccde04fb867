"""`ecoops salesforce-sync`: one sync now, in this process (the worker runs the same on a schedule);
`ecoops crm-secrets-key`: a new key for ECOOPS_CRM_SECRETS_KEY.

Exit status: 0 the sync finished; 1 a batch was refused (see the run's error reports on the page);
2 it failed (Salesforce unreachable or refusing, not connected). A sync stopped any way resumes at
its checkpoints the next time."""

from __future__ import annotations

import typer
from rich.console import Console

from ecoops.actors import cli_actor
from ecoops.config import get_settings
from ecoops.crm.connections.secrets import new_key
from ecoops.crm.salesforce.client import SalesforceAuthError, SalesforceUnavailable
from ecoops.crm.salesforce.sync import SalesforceSync
from ecoops.db import make_engine, migrate, session_factory
from ecoops.permissions import NotFound

console = Console()


def sync_command() -> None:
    """Sync Salesforce now (accounts, opportunities, their stage history) from each object's checkpoint."""
    settings = get_settings()
    engine = make_engine(settings.effective_database_url)
    migrate(engine)
    try:
        sync = SalesforceSync(
            session_factory(engine),
            settings,
            cli_actor("salesforce-sync"),
            trigger="cli",
            progress=lambda message, _done, _total: console.print(message),
        )
        run = sync.run()
    except (NotFound, SalesforceUnavailable, SalesforceAuthError) as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    finally:
        engine.dispose()
    console.print(
        f"Sync {run.id} {run.status}: {run.records:,} records read, {run.new:,} new, "
        f"{run.updated:,} updated, "
        f"{run.deleted:,} deleted, {run.rejected:,} refused"
    )
    raise typer.Exit(0 if run.status == "done" else 1)


def secrets_key_command() -> None:
    """Print a new Fernet key for ECOOPS_CRM_SECRETS_KEY (connect again after changing it)."""
    print(new_key())
