"""The `ecoops` command: set-up, users, the web server, and each domain's commands."""

from __future__ import annotations

import os

import typer
from pydantic import ValidationError
from rich.console import Console

from ecoops.accounts import service as accounts
from ecoops.actors import Role, cli_actor
from ecoops.attribution.cli import touches_app
from ecoops.automation.worker_cli import worker_command
from ecoops.config import get_settings
from ecoops.crm.hubspot.cli import sync_command as hubspot_sync_command
from ecoops.crm.hubspot.writeback import HUBSPOT
from ecoops.crm.imports.cli import import_file
from ecoops.crm.salesforce.cli import secrets_key_command, sync_command
from ecoops.crm.salesforce.writeback import SALESFORCE
from ecoops.crm.writeback.cli import writeback_command
from ecoops.db import make_engine, migrate, session_factory, transaction
from ecoops.demo.command import demo, demo_partner
from ecoops.mapping.cli import map_command, map_files_command, map_upload_command
from ecoops.metrics.cli import report_command
from ecoops.ops import logs
from ecoops.ops.backup import backup_command, restore_command
from ecoops.psi.cli import psi_app

app = typer.Typer(help="ecoops: partner ecosystem operations.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(psi_app, name="psi")
app.add_typer(touches_app, name="touches")
app.command("import")(import_file)
app.command("salesforce-sync")(sync_command)
app.command("salesforce-writeback")(writeback_command(SALESFORCE))
app.command("hubspot-sync")(hubspot_sync_command)
app.command("hubspot-writeback")(writeback_command(HUBSPOT))
app.command("crm-secrets-key")(secrets_key_command)
app.command("map-files")(map_files_command)
app.command("map")(map_command)
app.command("map-upload")(map_upload_command)
app.command("report")(report_command)
app.command()(demo)
app.command("demo-partner")(demo_partner)
app.command("worker")(worker_command)
app.command("backup")(backup_command)
app.command("restore")(restore_command)
console = Console()


@app.callback()
def check_settings() -> None:
    """Refuse to start on a wrong setting, naming it, rather than run with a default in its place."""
    try:
        get_settings()
    except ValidationError as exc:
        for error in exc.errors():
            name = "ECOOPS_" + "_".join(str(part) for part in error["loc"]).upper()
            console.print(
                f"[red]{name if error['loc'] else 'setting'}:[/] {error['msg'].removeprefix('Value error, ')}"
            )
        raise typer.Exit(2) from None


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("heads")) -> None:
    """Create or migrate the database schema (runs Alembic migrations)."""
    settings = get_settings()
    migrate(make_engine(settings.effective_database_url), revision)
    console.print(f"[green]Schema at {revision}[/] ({settings.effective_database_url.split('@')[-1]})")


@app.command("create-user")
def create_user(
    email: str,
    role: Role = typer.Option(Role.ADMIN, help="admin, ops, partner_manager, sales or viewer"),
    name: str = typer.Option("", help="Display name (defaults to the e-mail)"),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
) -> None:
    """Create an internal user."""
    engine = make_engine(get_settings().effective_database_url)
    migrate(engine)
    try:
        with transaction(session_factory(engine)) as session:
            accounts.create_user(session, cli_actor(), email=email, name=name, role=role, password=password)
    except accounts.InvalidInput as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    console.print(f"[green]Created[/] {email} ({role.value})")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on"),
    port: int = typer.Option(8000),
    reload: bool = typer.Option(False, help="Restart on code changes (development)"),
    workers: int = typer.Option(
        1, min=1, help="Web processes (they share nothing but the database; run `ecoops worker` beside them)"
    ),
    demo: bool = typer.Option(
        False, "--demo", help="Demo mode: mail and Slack caught locally (/demo/mail), loopback private maps"
    ),
) -> None:
    """Run the web app (pages, partner portal and /api/v1)."""
    import uvicorn

    if reload and workers > 1:
        console.print("[red]--reload runs one process: leave out --workers[/]")
        raise typer.Exit(2)

    settings = get_settings()
    logs.configure(settings)
    migrate(make_engine(settings.effective_database_url))

    def run() -> None:
        # Our middleware writes the access log (ops/requests.py), with the request id, in the chosen format.
        uvicorn.run(
            "ecoops.web.asgi:app",
            host=host,
            port=port,
            reload=reload,
            workers=workers,
            # A process answers the supervisor's health check only once it has imported the app, which
            # takes longer than uvicorn's 5 s on a busy small machine (the process was killed and respawned).
            timeout_worker_healthcheck=60,
            proxy_headers=True,
            log_config=None,
            access_log=False,
        )

    if not demo:
        run()
        return
    from ecoops.demo.catcher import running_catchers
    from ecoops.demo.serve import demo_environment

    with running_catchers(settings.var_dir) as catchers:
        os.environ.update(demo_environment(port, catchers))
        get_settings.cache_clear()  # the app reads the demo's settings
        console.print(
            f"Demo mode: e-mail and Slack messages are caught (SMTP port {catchers.smtp_port}) "
            f"and listed at http://127.0.0.1:{port}/demo/mail (admin)."
        )
        run()


if __name__ == "__main__":
    app()
