"""`ecoops import FILE`: shows the recognised format, mapping and a preview, then imports with a progress bar.

Exit status: 0 every row imported (or would be, in a dry run); 1 rows were refused (the file as a
whole, or with --accept-valid the rows left out); 2 the file or mapping cannot be read at all.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn
from rich.table import Table

from ecoops.actors import cli_actor
from ecoops.attribution.review import partner_field_sentence
from ecoops.config import get_settings
from ecoops.crm.imports import service
from ecoops.crm.imports.fields import Kind
from ecoops.crm.imports.formats import ImportFileError, read_mapping_file
from ecoops.crm.imports.records import Workspace
from ecoops.crm.imports.values import DateOrder
from ecoops.db import make_engine, migrate, session_factory, transaction

console = Console()


def _show_inspection(inspection: service.Inspection) -> None:
    facts, mapping = inspection.facts, inspection.mapping
    console.print(
        f"[bold]{facts.filename}[/]: {facts.size:,} bytes, {facts.encoding_name}, "
        f"separator {facts.delimiter!r}; recognised as [bold]{mapping.source_format}[/] "
        f"[bold]{mapping.kind.value}[/]; dates {inspection.date_order.value} ({inspection.date_order_source})"
    )
    columns = Table("field", "column", title="Mapping", title_justify="left")
    for name, header in mapping.describe().items():
        columns.add_row(name, header)
    console.print(columns)
    if mapping.ignored:
        console.print(f"[yellow]Not imported:[/] {', '.join(mapping.ignored)}")
    preview = Table("line", *inspection.columns, title="Preview", title_justify="left")
    for row in inspection.preview:
        if row.problems:
            preview.add_row(
                str(row.line), "; ".join(f"{p.field or '(row)'}: {p.message}" for p in row.problems)
            )
        else:
            preview.add_row(str(row.line), *("—" if v is None else str(v) for v in row.values))
    console.print(preview)


def _show_outcome(outcome: service.ImportOutcome, errors: Path | None) -> None:
    counts = Table("rows", "new", "updated", "unchanged", "rejected", title="Counts", title_justify="left")
    counts.add_row(
        *(f"{n:,}" for n in (outcome.rows, outcome.new, outcome.updated, outcome.unchanged, outcome.rejected))
    )
    console.print(counts)
    if outcome.created:
        console.print(f"Creates: {', '.join(outcome.created)}")
    if outcome.partner_field_rule:
        console.print(partner_field_sentence(outcome.partner_field_rule, outcome.partner_field_deals))
    for problem in outcome.problems[:20]:
        console.print(f"  line {problem.line}, {problem.field or '(row)'}: {problem.message}", markup=False)
    if outcome.rejected and errors is None:
        console.print("Write the full error report with --errors OUT.csv")
    verdict = {
        service.DRY_RUN: "[cyan]Dry run: nothing was written.[/]",
        service.COMMITTED: f"[green]Committed[/] as import {outcome.run_id}.",
        service.REJECTED: f"[red]Refused: nothing was written[/] (import {outcome.run_id}); "
        "fix the rows or use --accept-valid.",
    }
    console.print(verdict[outcome.status])


def import_file(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="The CSV file"),
    kind: Kind | None = typer.Option(None, help="What the file holds, when its columns do not say"),
    mapping: Path | None = typer.Option(
        None, exists=True, dir_okay=False, help='JSON column mapping: {"kind": …, "columns": {field: column}}'
    ),
    date_order: DateOrder | None = typer.Option(None, help="MDY or DMY, for dates like 03/04/2025"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Count new / updated / unchanged / rejected only"),
    accept_valid: bool = typer.Option(
        False, "--accept-valid", help="Commit the valid rows even if some are refused"
    ),
    errors: Path | None = typer.Option(None, help="Write the error report (CSV) to this file"),
) -> None:
    """Import a Salesforce or HubSpot export, a partner list, or any CSV with a column mapping."""
    settings = get_settings()
    engine = make_engine(settings.effective_database_url)
    migrate(engine)
    workspace = Workspace(currency=settings.currency, tz=settings.tz)
    actor = cli_actor()
    try:
        spec = read_mapping_file(mapping) if mapping else None
        request = service.ImportRequest(kind, spec, date_order, dry_run, accept_valid)
        inspection = service.inspect_file(
            actor, file, filename=file.name, request=request, workspace=workspace
        )
        _show_inspection(inspection)
        columns = [BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn()]
        with (
            Progress(*columns, console=console, transient=True) as progress,
            transaction(session_factory(engine)) as session,
            _report_file(errors) as report,
        ):
            task = progress.add_task("import", total=inspection.facts.size)
            outcome = service.run_import(
                session,
                actor,
                file,
                filename=file.name,
                request=request,
                workspace=workspace,
                today=settings.today(),
                progress=lambda done: progress.update(task, completed=done),
                report_to=report,
            )
    except ImportFileError as exc:
        console.print(f"[red]error:[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(2) from None
    _show_outcome(outcome, errors)
    if outcome.rejected:
        raise typer.Exit(1)


@contextlib.contextmanager
def _report_file(path: Path | None) -> Iterator[TextIO | None]:
    if path is None:
        yield None
        return
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        yield out
