"""`ecoops demo`: seed the demo workspace into the configured database and print how to sign in."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.accounts.service import InvalidInput
from ecoops.actors import cli_actor
from ecoops.config import get_settings
from ecoops.db import make_engine, migrate, session_factory, transaction
from ecoops.demo.people import COMPANY_NAME, DEMO_PASSWORD, demo_sign_ins
from ecoops.partners.models import Partner

APP_URL = "http://127.0.0.1:8000"
console = Console()


def demo(
    seed: int = typer.Option(7, help="The same seed and --as-of always give the same workspace."),
    as_of: datetime | None = typer.Option(
        None, formats=["%Y-%m-%d"], help="The day the demo's history runs up to [default: today]."
    ),
    accounts: int = typer.Option(5000, min=50, max=100_000, help="How many accounts our CRM holds."),
    if_empty: bool = typer.Option(
        False, "--if-empty", help="Seed only a workspace without data; else do nothing."
    ),
    reset: bool = typer.Option(False, "--reset", help="Delete the database first and start afresh."),
    yes: bool = typer.Option(False, "--yes", help="Confirm --reset on a PostgreSQL database."),
    port: int = typer.Option(8000, help="The port the demo will be served on, for the address printed."),
) -> None:
    """Seed a demo workspace: a company's CRM history, partner program, touches and partner account lists."""
    # Imported here so that other commands do not pay for loading Faker.
    from ecoops.demo.commissions import seed_commissions
    from ecoops.demo.cosell import seed_co_sell
    from ecoops.demo.enablement import seed_enablement
    from ecoops.demo.fit import seed_fit
    from ecoops.demo.goals import seed_goals
    from ecoops.demo.influence import seed_influence
    from ecoops.demo.mapping import map_partner_lists
    from ecoops.demo.maturity import seed_maturity
    from ecoops.demo.partner_exports import write_partner_exports
    from ecoops.demo.referrals import seed_referrals
    from ecoops.demo.roi import seed_roi
    from ecoops.demo.rules import seed_rules
    from ecoops.demo.workspace import STEPS, has_data, reset_database, seed_workspace

    settings = get_settings()
    engine = make_engine(settings.effective_database_url)
    if reset:
        if engine.dialect.name != "sqlite" and not yes:
            console.print("[red]error:[/] --reset drops every table of this PostgreSQL database; add --yes")
            raise typer.Exit(2)
        reset_database(engine)
    migrate(engine)
    sessions = session_factory(engine)
    with sessions() as session:
        if has_data(session):
            if not if_empty:
                console.print("[red]error:[/] the workspace already has data; use --reset to start afresh")
                raise typer.Exit(1)
            console.print("The workspace already has data: nothing seeded.")
            _print_sign_ins(session, port)
            return
    today = as_of.date() if as_of else settings.today()
    with Progress(
        TextColumn("{task.description:<18}"), BarColumn(), TimeElapsedColumn(), console=console
    ) as progress:
        task = progress.add_task("Seeding", total=len(STEPS))

        def on_step(step: str) -> None:
            progress.update(task, description=step, completed=STEPS.index(step))

        try:
            with transaction(sessions) as session:
                seeded = seed_workspace(
                    session,
                    cli_actor("ecoops demo"),
                    seed=seed,
                    as_of=today,
                    account_count=accounts,
                    currency=settings.currency,
                    on_step=on_step,
                )
        except InvalidInput as exc:  # e.g. a demo e-mail already taken by a user created by hand
            console.print(f"[red]error:[/] {exc}; use --reset to start afresh")
            raise typer.Exit(1) from None
        progress.update(task, description="Seeded", completed=len(STEPS))
    paths = write_partner_exports(seeded.exports, settings.var_dir / "demo")
    with console.status("Partners' referrals and registrations"), transaction(sessions) as session:
        referrals = seed_referrals(session, seed, today, settings.currency)
    with console.status("Mapping the partners' account lists"), transaction(sessions) as session:
        matched = map_partner_lists(session, cli_actor("ecoops demo"), seeded.exports, paths, today)
    with console.status("Co-sell requests"), transaction(sessions) as session:
        co_sell = seed_co_sell(session, seed, today)
    with console.status("Influence logs"), transaction(sessions) as session:
        influence_logs = seed_influence(session, settings, today)
    with console.status("Commissions"), transaction(sessions) as session:
        commission_lines = seed_commissions(session, cli_actor("ecoops demo"), settings, today)
    with console.status("Goals"), transaction(sessions) as session:
        goals = seed_goals(session, cli_actor("ecoops demo"), settings, today)
    with console.status("Candidates' account lists"), transaction(sessions) as session:
        candidates = seed_fit(session, cli_actor("ecoops demo"), seed, today)
    with console.status("Program costs and report packs"), transaction(sessions) as session:
        costs = seed_roi(session, cli_actor("ecoops demo"), seed, today)
    # Enablement first: the roadmap's content task targets the utilisation figure its views make.
    with console.status("Enablement"), transaction(sessions) as session:
        library_items = seed_enablement(session, settings, today)
    with console.status("EcoOps maturity and roadmap"), transaction(sessions) as session:
        roadmap_tasks = seed_maturity(session, cli_actor("ecoops demo"), settings, today)
    with transaction(sessions) as session:
        seed_rules(session, cli_actor("ecoops demo"))
    _print_summary(
        f"Demo workspace (seed {seed}, as of {today})",
        seeded.counts
        | {
            "referral records": referrals,
            "mapped overlaps": matched,
            "co-sell requests": co_sell,
            "influence logs": influence_logs,
            "commission lines": commission_lines,
            "goals": goals,
            "candidates mapped": candidates,
            "program cost lines": costs,
            "roadmap tasks": roadmap_tasks,
            "enablement content items": library_items,
        },
        paths,
    )
    with sessions() as session:
        _print_sign_ins(session, port)


def _print_summary(title: str, counts: dict[str, int], paths: list[Path]) -> None:
    summary = Table(title=title, show_header=False)
    for label, count in counts.items():
        summary.add_row(label, f"{count:,}")
    console.print(summary)
    console.print("Partner account lists, for account mapping:")
    for path in paths:
        console.print(f"  {path}", soft_wrap=True)


def _print_sign_ins(session: Session, port: int) -> None:
    rows = demo_sign_ins(session)
    if not rows:
        return
    table = Table(title="Sign in with")
    table.add_column("E-mail", no_wrap=True)  # an address cut short is no use
    table.add_column("Password", no_wrap=True)
    table.add_column("Role")
    for row in rows:
        table.add_row(row.email, row.password, row.role)
    console.print(table)
    console.print(
        f"Open [bold]http://127.0.0.1:{port}[/] (`ecoops serve` starts the web app; `make demo` does both)."
    )


def demo_partner(
    port: int = typer.Option(8001, help="The port the partner's instance will be served on."),
    demo_url: str = typer.Option(APP_URL, help="Where the demo (make demo) is served."),
    demo_var_dir: Path = typer.Option(Path("var"), help="The demo's var dir (its database and lists)."),
) -> None:
    """Seed a second demo instance for one of the demo's partners (ECOOPS_VAR_DIR) and connect it to the demo.

    Then serve it with `ecoops serve --demo --port 8001` (`make demo-partner` does both).
    """
    from ecoops.demo.partner_instance import (
        Side,
        connect,
        first_shared_list,
        partner_users,
        seed_partner_workspace,
    )
    from ecoops.demo.workspace import has_data

    own = get_settings().model_copy(
        update={"public_url": f"http://127.0.0.1:{port}", "psi_allow_http_loopback": True}
    )
    if own.var_dir.resolve() == demo_var_dir.resolve():
        console.print("[red]error:[/] set ECOOPS_VAR_DIR to the partner's own folder (e.g. var/demo-partner)")
        raise typer.Exit(2)
    demo_settings = own.model_copy(
        update={"var_dir": demo_var_dir, "database_url": "", "public_url": demo_url.rstrip("/")}
    )
    demo_engine, own_engine = (make_engine(s.effective_database_url) for s in (demo_settings, own))
    migrate(own_engine)
    demo_sessions, own_sessions = session_factory(demo_engine), session_factory(own_engine)
    with demo_sessions() as session:
        listed = first_shared_list(session, demo_var_dir)
    if listed is None:
        console.print(
            f"[red]error:[/] no demo workspace with partner lists in {demo_var_dir}: run `make demo` first"
        )
        raise typer.Exit(1)
    actor = cli_actor("ecoops demo-partner")
    with own_sessions() as session:
        seeded = has_data(session)
    if not seeded:
        with transaction(own_sessions) as session:
            seed_partner_workspace(session, actor, listed, own.today())
        console.print(f"Seeded {listed.name}'s workspace from its account list {listed.path}")
    with own_sessions() as session:
        own_partner_id = session.scalar(select(Partner.id).where(Partner.name == COMPANY_NAME))
    try:
        connected = connect(
            actor,
            Side(demo_sessions, demo_settings, listed.partner_id),
            Side(own_sessions, own, own_partner_id or 0),
        )
    except InvalidInput as exc:
        console.print(
            f"[red]error:[/] {exc}\nIs the demo served at {demo_url} (`make demo` in another terminal)?"
        )
        raise typer.Exit(1) from None
    console.print(
        f"{listed.name} is {'now' if connected else 'already'} connected to {COMPANY_NAME} (private mapping)."
    )
    table = Table(title=f"Sign in to {listed.name} at http://127.0.0.1:{port}")
    table.add_column("E-mail", no_wrap=True)
    table.add_column("Password", no_wrap=True)
    table.add_column("Role")
    for email, role in partner_users(listed):
        table.add_row(email, DEMO_PASSWORD, role.value)
    console.print(table)
    console.print(
        f"Private mapping: Mapping → {COMPANY_NAME} → Private mapping → Run now (or on the demo, "
        f"Mapping → {listed.name} → Private mapping)."
    )
