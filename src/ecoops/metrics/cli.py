"""`ecoops report`: the dashboard figures in the terminal (Rich tables), as CSV or as JSON.

Exit status: 0 figures printed; 2 an unknown figure or an impossible period.
"""

from __future__ import annotations

import sys
from datetime import date, datetime
from enum import StrEnum

import typer
from rich.console import Console
from rich.table import Table

from ecoops.actors import cli_actor
from ecoops.config import get_settings
from ecoops.db import make_engine, migrate, session_factory
from ecoops.metrics import service
from ecoops.metrics.export import display, table_csv, tables_json

console = Console()


class Format(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"


def _day(value: datetime | None) -> date | None:
    return value.date() if value else None


def report_command(
    figures: list[str] = typer.Argument(
        None, help=f"Figures to show (default: all): {', '.join(service.FIGURES)}"
    ),
    as_of: datetime | None = typer.Option(
        None, "--as-of", formats=["%Y-%m-%d"], help="Records as they stood that day"
    ),
    start: datetime | None = typer.Option(
        None, "--from", formats=["%Y-%m-%d"], help="First day of the period"
    ),
    end: datetime | None = typer.Option(
        None, "--to", formats=["%Y-%m-%d"], help="Last day (default: the as-of date)"
    ),
    partner: list[int] = typer.Option([], help="Partner id (repeatable)"),
    program: list[int] = typer.Option([], help="Program id (repeatable)"),
    tier: list[int] = typer.Option([], help="Tier id (repeatable)"),
    partner_type: list[str] = typer.Option([], "--type", help="Partner type, e.g. reseller (repeatable)"),
    owner: list[int] = typer.Option([], help="Partner manager's user id (repeatable)"),
    deal_owner: list[str] = typer.Option([], help="Opportunity owner as in the CRM (repeatable)"),
    target: float = typer.Option(1_000_000.0, help="Revenue target for 'partners needed'"),
    output: Format = typer.Option(Format.TABLE, "--format", help="table, csv or json"),
) -> None:
    """Print the dashboard figures for a date, a period and filters (definitions: docs/metrics.md)."""
    settings = get_settings()
    engine = make_engine(settings.effective_database_url)
    migrate(engine)
    try:
        query = service.build_query(
            settings.today(),
            as_of=_day(as_of),
            start=_day(start),
            end=_day(end),
            partners=partner,
            programs=program,
            tiers=tier,
            types=partner_type,
            owners=owner,
            deal_owners=deal_owner,
            target_revenue=target,
        )
        with session_factory(engine)() as session:
            result = service.report(session, cli_actor(), settings, query, figures or list(service.FIGURES))
    except ValueError as error:
        console.print(f"[red]error:[/] {error}")
        raise typer.Exit(2) from None
    if output == Format.JSON:
        sys.stdout.write(tables_json(result.figures) + "\n")
    elif output == Format.CSV:
        for name, table in result.figures.items():
            sys.stdout.write(f"# {name}\n{table_csv(table)}\n")
    else:
        _print_tables(result)


def _print_tables(result: service.Report) -> None:
    query, rules = result.query, result.settings
    console.print(
        f"As of [bold]{query.as_of}[/], period [bold]{query.period.start} to {query.period.end}[/], "
        f"amounts in {rules.currency}; grace {rules.sourcing_grace_days} d, look-back "
        f"{rules.influence_look_back_days} d, half-life {rules.time_decay_half_life_days:g} d"
    )
    if result.skipped_opportunities:
        console.print(
            f"[yellow]{result.skipped_opportunities} opportunities left out (no created or close date)[/]"
        )
    for name, table in result.figures.items():
        shown = Table(
            *table.column_names, title=f"{service.FIGURES[name].title} [{name}]", title_justify="left"
        )
        for row in table.to_pylist():
            shown.add_row(*(display(v) for v in row.values()))
        if not table.num_rows:
            console.print(f"[bold]{service.FIGURES[name].title}[/] [{name}]: no data")
        else:
            console.print(shown)
