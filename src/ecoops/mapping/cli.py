"""Mapping commands. `ecoops map-files OURS.csv THEIRS.csv -o overlaps.csv`: two exports, no workspace;
`ecoops map-upload PARTNER FILE`: store a partner's list; `ecoops map [--partner P]`: mapping runs.

Exit status: 0 done; 2 a file cannot be read or has no column to match on, or no such partner."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecoops.actors import cli_actor
from ecoops.config import get_settings
from ecoops.db import make_engine, migrate, session_factory, transaction
from ecoops.mapping import runs, uploads
from ecoops.mapping.files import AccountsFile, MappingFileError, map_files, method_counts
from ecoops.partners.models import Partner

console = Console(stderr=True)
SHOWN_LINES = 5  # line numbers listed for rows that could not be matched


def _report_unmatchable(file: AccountsFile, unkeyed_lines: list[int]) -> None:
    for lines, what in (
        (file.rows_without_id, "rows with no id, left out"),
        (unkeyed_lines, "rows with neither a name nor a usable domain, never matched"),
    ):
        if lines:
            more = ", …" if len(lines) > SHOWN_LINES else ""
            shown = ", ".join(str(n) for n in lines[:SHOWN_LINES]) + more
            console.print(f"[yellow]{escape(file.filename)}[/]: {what}: {len(lines):,} (lines {shown})")


def map_files_command(
    ours: Path = typer.Argument(..., exists=True, dir_okay=False, help="Our accounts export (CSV)"),
    theirs: Path = typer.Argument(..., exists=True, dir_okay=False, help="The partner's accounts (CSV)"),
    output: Path = typer.Option(..., "-o", "--output", help="Where to write the matched pairs (CSV)"),
) -> None:
    """Match two account exports: one output row per matched pair, with method, score and why."""
    try:
        result, our_file, their_file = map_files(ours, theirs, output)
    except MappingFileError as exc:
        console.print(f"[red]error:[/] {escape(str(exc))}")
        raise typer.Exit(2) from None
    _report_unmatchable(our_file, our_file.lines_of(result.unkeyed_ours.column("row")))
    _report_unmatchable(their_file, their_file.lines_of(result.unkeyed_theirs.column("row")))
    counts = ", ".join(f"{method} {n:,}" for method, n in sorted(method_counts(result.pairs).items()))
    console.print(
        f"[green]{result.pairs.num_rows:,} matched pairs[/] written to {escape(str(output))}"
        + (f" ({counts})" if counts else "")
    )


def _partner_id(session: Session, given: str) -> int:
    """A partner by id or by name (case-insensitive); exit 2 naming what was not found."""
    found = session.scalar(
        select(Partner.id).where(
            Partner.id == int(given) if given.isdigit() else func.lower(Partner.name) == given.strip().lower()
        )
    )
    if found is None:
        console.print(f"[red]error:[/] no partner {escape(given)!r}")
        raise typer.Exit(2)
    return found


def map_upload_command(
    partner: str = typer.Argument(..., help="The partner's id or name"),
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="The partner's accounts export (CSV)"),
) -> None:
    """Store a partner's account list (replacing its current one) and map it."""
    engine = make_engine(get_settings().effective_database_url)
    migrate(engine)
    actor = cli_actor()
    try:
        with transaction(session_factory(engine)) as session:
            partner_id = _partner_id(session, partner)
            outcome = uploads.upload_partner_list(session, actor, partner_id, file, file.name)
    except MappingFileError as exc:
        console.print(f"[red]error:[/] {escape(str(exc))}")
        raise typer.Exit(2) from None
    upload = outcome.upload
    if not outcome.changed:
        console.print(f"Same content as the current list ({escape(upload.filename)}): nothing changed")
        return
    console.print(f"[green]{upload.rows:,} accounts[/] stored from {escape(upload.filename)}")
    for lines, what in (
        (upload.rows_without_id, "rows with no id, left out"),
        (upload.rows_without_key, "rows with neither a name nor a usable domain, never matched"),
    ):
        if lines:
            more = ", …" if len(lines) > SHOWN_LINES else ""
            shown = ", ".join(str(n) for n in lines[:SHOWN_LINES]) + more
            console.print(f"[yellow]{escape(upload.filename)}[/]: {what}: {len(lines):,} (lines {shown})")
    with transaction(session_factory(engine)) as session:
        _report_run(runs.run_mapping(session, actor, partner_id))


def _report_run(outcome: runs.RunOutcome) -> None:
    if outcome.run is None:
        return
    if outcome.skipped:
        console.print(f"partner {outcome.partner_id}: unchanged since run {outcome.run.id}, not recomputed")
    else:
        console.print(f"partner {outcome.partner_id}: [green]{outcome.run.matches:,} matches[/]")


def map_command(
    partner: str = typer.Option("", "--partner", "-p", help="Only this partner (id or name)"),
) -> None:
    """Map every partner's current list (or one partner's); partners whose input is unchanged are skipped."""
    engine = make_engine(get_settings().effective_database_url)
    migrate(engine)
    factory = session_factory(engine)
    with factory() as session:
        ids = (
            [_partner_id(session, partner)]
            if partner
            else [p for p in session.scalars(select(Partner.id).order_by(Partner.id))]
        )
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    outcomes = []
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("Mapping partners", total=len(ids))
        for partner_id in ids:
            # One transaction per partner: a failure leaves the partners already mapped in place.
            with transaction(factory) as session:
                outcomes.append(runs.run_mapping(session, cli_actor(), partner_id))
            progress.advance(task)
    for outcome in outcomes:
        _report_run(outcome)
    mapped = sum(1 for o in outcomes if o.run is not None and not o.skipped)
    console.print(
        f"{mapped} mapped, {sum(o.skipped for o in outcomes)} unchanged, "
        f"{sum(o.run is None for o in outcomes)} without a list"
    )
