"""`ecoops psi …`: private account mapping with files, for a partner who does not run ecoops.

Each command reads the previous message and writes the next one to send; the state file between
commands holds this side's secret exponent (written 0600, deleted by `finish`):

    A: ecoops psi start ours.csv -o msg1.psi --state a.state            (A sends msg1 to B)
    B: ecoops psi respond theirs.csv msg1.psi -o msg2.psi --state b.state  (B sends msg2 to A)
    A: ecoops psi continue msg2.psi -o msg3.psi --state a.state         (A sends msg3 to B)
    B: ecoops psi finish msg3.psi --reply msg4.psi -o overlaps.csv --state b.state  (B sends msg4)
    A: ecoops psi finish msg4.psi -o overlaps.csv --state a.state
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from ecoops.crm.imports.formats import ImportFileError
from ecoops.crm.imports.reader import CsvRows, examine
from ecoops.crm.imports.report import neutralise
from ecoops.engines.matching import keyed_accounts
from ecoops.engines.psi import Item, Party, PsiError, Result, item_keys, new_session_id, peek
from ecoops.mapping.files import ENGINE_COLUMNS, MappingFileError, read_accounts

psi_app = typer.Typer(
    help="Private account mapping with files (no ecoops server needed).", no_args_is_help=True
)
console = Console(stderr=True)
STATE_WARNING = "holds this side's secret: keep it private, do not send it; `finish` deletes it"

ReleaseOption = typer.Option(
    "name",
    "--release",
    help=f"Columns released for matched records (reveal mode): any of {', '.join(ENGINE_COLUMNS)}",
)
PopulationOption = typer.Option(
    None,
    "--population-column",
    help="A column whose value labels each record's population (sent to the partner)",
)
StateOption = typer.Option(..., "--state", help=f"The state file ({STATE_WARNING})")


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]error:[/] {escape(message)}")
    return typer.Exit(2)


def _column(path: Path, header: str, lines: Sequence[int]) -> list[str]:
    """The values of one column for the given lines (the rows read_accounts kept)."""
    facts = examine(path, path.name)
    with CsvRows(facts) as rows:
        if header not in rows.header:
            raise MappingFileError(
                f"{path.name}: no column {header!r}; its columns: {', '.join(rows.header)}"
            )
        position = rows.header.index(header)
        by_line = {line: cells[position].strip() if position < len(cells) else "" for line, cells in rows}
    return [by_line[line] for line in lines]


def read_items(path: Path, release: str, population_column: str | None) -> list[Item]:
    """The file's accounts as PSI items: normalised keys as account mapping makes them, released fields."""
    released = [name.strip() for name in release.split(",") if name.strip()]
    unknown = [name for name in released if name not in ENGINE_COLUMNS]
    if unknown:
        raise MappingFileError(
            f"--release: unknown column {', '.join(unknown)} (known: {', '.join(ENGINE_COLUMNS)})"
        )
    try:
        accounts = read_accounts(path)
        populations = _column(path, population_column, accounts.lines) if population_column else None
    except ImportFileError as exc:
        raise MappingFileError(str(exc)) from None
    table = accounts.accounts
    keys = item_keys(keyed_accounts(table, side=path.name))
    values = {name: table.column(name).to_pylist() for name in released if name in table.column_names}
    items = [
        Item(
            record_id=record_id,
            keys=keys[row],
            population=populations[row] if populations else "",
            fields={name: column[row] for name, column in values.items() if column[row]},
        )
        for row, record_id in enumerate(table.column("id").to_pylist())
        if keys[row]
    ]
    left_out = table.num_rows - len(items) + len(accounts.rows_without_id)
    console.print(
        f"{path.name}: {len(items):,} accounts offered"
        + (f"; {left_out:,} left out (no id, or no domain or name to match on)" if left_out else "")
    )
    return items


def _write_secret(path: Path, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(data)
    os.chmod(path, 0o600)  # an existing file keeps its mode through O_CREAT


def _save(party: Party, state: Path) -> None:
    _write_secret(state, party.save_state())
    console.print(f"[yellow]{escape(str(state))} {STATE_WARNING}.[/]")


def _load(state: Path) -> Party:
    try:
        return Party.load_state(state.read_bytes())
    except OSError as exc:
        raise _fail(f"cannot read the state file: {exc}") from None
    except (PsiError, ValueError, KeyError) as exc:
        raise _fail(f"{state}: not a usable state file ({exc})") from None


def _send(message: bytes, output: Path) -> None:
    output.write_bytes(message)
    console.print(f"Wrote {escape(str(output))} ({len(message):,} bytes): send it to your partner.")


def write_result(result: Result, mode: str, output: Path) -> int:
    """Reveal: one row per matched pair (our id, their ref, population, released fields); count: counts."""
    with output.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        if mode == "count":
            writer.writerow(["our_population", "their_population", "pairs"])
            for (ours, theirs), n in sorted(result.counts.items()):
                writer.writerow([neutralise(ours), neutralise(theirs), n])
            return sum(result.counts.values())
        fields = sorted({name for m in result.matches for name in m.their_fields})
        writer.writerow(["our_id", "their_ref", "their_population", *(f"their_{f}" for f in fields)])
        for m in sorted(result.matches, key=lambda m: (m.record_id, m.their_ref)):
            cells = [
                m.record_id,
                m.their_ref,
                m.their_population,
                *(m.their_fields.get(f, "") for f in fields),
            ]
            writer.writerow([neutralise(c) for c in cells])
        return len(result.matches)


@psi_app.command("start")
def start(
    accounts: Path = typer.Argument(..., exists=True, dir_okay=False, help="Our accounts (CSV)"),
    mode: str = typer.Option("reveal", "--mode", help="reveal (matched accounts) or count (counts only)"),
    output: Path = typer.Option(..., "-o", "--output", help="Message 1, to send to the partner"),
    state: Path = StateOption,
    release: str = ReleaseOption,
    population_column: str | None = PopulationOption,
) -> None:
    """Initiator, step 1: read our accounts, write the first message."""
    if mode not in ("reveal", "count"):
        raise _fail(f"--mode must be reveal or count, not {mode!r}")
    try:
        items = read_items(accounts, release, population_column)
        party = Party(items, session_id=new_session_id(), role="initiator", mode=mode)  # type: ignore[arg-type]
        message = party.step1()
    except (MappingFileError, PsiError) as exc:
        raise _fail(str(exc)) from None
    _save(party, state)
    _send(message, output)


@psi_app.command("respond")
def respond(
    accounts: Path = typer.Argument(..., exists=True, dir_okay=False, help="Our accounts (CSV)"),
    message: Path = typer.Argument(..., exists=True, dir_okay=False, help="Message 1, from the initiator"),
    output: Path = typer.Option(..., "-o", "--output", help="Message 2, to send back"),
    state: Path = StateOption,
    release: str = ReleaseOption,
    population_column: str | None = PopulationOption,
) -> None:
    """Responder, step 2: read our accounts and message 1, write message 2 (the mode is the initiator's)."""
    data = message.read_bytes()
    try:
        session_id, step, mode = peek(data)
        if step != 1:
            raise PsiError(f"{message.name} is message {step}; `respond` takes message 1")
        items = read_items(accounts, release, population_column)
        party = Party(items, session_id=session_id, role="responder", mode=mode)  # type: ignore[arg-type]
        reply = party.step2(data)
    except (MappingFileError, PsiError) as exc:
        raise _fail(str(exc)) from None
    console.print(f"Mode: {mode} (chosen by the initiator).")
    _save(party, state)
    _send(reply, output)


@psi_app.command("continue")
def continue_(
    message: Path = typer.Argument(..., exists=True, dir_okay=False, help="Message 2, from the responder"),
    output: Path = typer.Option(..., "-o", "--output", help="Message 3, to send to the responder"),
    state: Path = StateOption,
) -> None:
    """Initiator, step 3: read message 2, write message 3."""
    party = _load(state)
    try:
        reply = party.step3(message.read_bytes())
    except PsiError as exc:
        raise _fail(str(exc)) from None
    _save(party, state)
    _send(reply, output)


@psi_app.command("finish")
def finish(
    message: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="Message 3 (responder) or 4 (initiator)"
    ),
    output: Path = typer.Option(..., "-o", "--output", help="Where to write the overlaps (CSV)"),
    state: Path = StateOption,
    reply: Path | None = typer.Option(None, "--reply", help="Responder: message 4, to send to the initiator"),
) -> None:
    """Last step on either side: write the overlaps (responder: and message 4); deletes the state file."""
    party = _load(state)
    if (party.role == "responder") != (reply is not None):
        raise _fail("the responder must give --reply (message 4 to send); the initiator must not")
    try:
        if reply is not None:
            answer = party.step4(message.read_bytes())
        else:
            party.finish(message.read_bytes())
    except PsiError as exc:
        raise _fail(str(exc)) from None
    if reply is not None:
        _send(answer, reply)
    rows = write_result(party.result, party.mode, output)
    state.unlink()
    what = "record pairs overlap" if party.mode == "count" else "matched pairs"
    console.print(f"[green]{rows:,} {what}[/], written to {escape(str(output))}; state file deleted.")
