"""`ecoops map-files OURS.csv THEIRS.csv -o overlaps.csv`: account mapping of two exports, no workspace.

Exit status: 0 the overlaps were written; 2 a file cannot be read or has no column to match on."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from ecoops.mapping.files import AccountsFile, MappingFileError, map_files, method_counts

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
