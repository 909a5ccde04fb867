"""Quick mapping of two CSV exports with no workspace: read both, match them, write the overlaps as CSV."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import pyarrow as pa
import pyarrow.compute as pc

from ecoops.crm.imports.fields import Kind
from ecoops.crm.imports.formats import PROFILES, ImportFileError, normal_header, recognise
from ecoops.crm.imports.reader import CsvRows, examine
from ecoops.crm.imports.report import neutralise
from ecoops.engines.matching import MatchResult, match_accounts, required_columns_missing

# Files are read as the CRM importer reads them (encoding, separator, line numbers, and the Salesforce
# and HubSpot account headers it knows), plus e-mail and plain "Country" columns, which partner lists
# often have and CRM exports do not; unlike an import, a name is not required.

ENGINE_COLUMNS = ("id", "name", "website", "domain", "email", "country")
# Headers the account importer has no field for, by the engine's column they feed.
EXTRA_HEADERS: dict[str, tuple[str, ...]] = {
    "email": ("Email", "E-mail", "Email Address", "Work Email", "Contact Email"),
    "country": ("Country",),
}
# The engine's evidence for one pair: what "why these matched" shows, in files and in the workspace.
PAIR_EVIDENCE = (
    "name_similarity",
    "domain_agreement",
    "country_agreement",
    "our_name_key",
    "their_name_key",
    "our_domain",
    "their_domain",
    "our_country",
    "their_country",
    "explanation",
)
OUTPUT_COLUMNS = ("our_id", "their_id", "method", "score", *PAIR_EVIDENCE)


class MappingFileError(ValueError):
    """A file cannot be mapped; the message names the file and what is wrong or missing."""


@dataclass(frozen=True)
class AccountsFile:
    """One file's accounts as the engine takes them, and the line each row came from."""

    filename: str
    accounts: pa.Table
    lines: list[int]
    rows_without_id: list[int]  # line numbers: reported, never matched

    def lines_of(self, rows: pa.Array | pa.ChunkedArray) -> list[int]:
        return [self.lines[row] for row in rows.to_pylist()]


def _account_aliases() -> dict[str, list[str]]:
    """Engine column → every header the importer's account profiles know it by, plus the extra ones."""
    aliases: dict[str, list[str]] = {}
    for profile in PROFILES:
        if profile.kind == Kind.ACCOUNTS:
            for name, headers in profile.columns.items():
                aliases.setdefault("id" if name == "crm_id" else name, []).extend(headers)
    for name, headers in EXTRA_HEADERS.items():
        aliases.setdefault(name, []).extend(headers)
    return {name: list(dict.fromkeys(aliases[name])) for name in ENGINE_COLUMNS if name in aliases}


def engine_columns(headers: list[str], filename: str) -> dict[str, str]:
    """Engine column → header: the importer's recognition first, then its aliases for what it lacks.

    The importer insists on a name; matching does not (a partner list of ids and e-mail addresses
    matches on domains), so a file it refuses is read by the same aliases, relaxed.
    """
    try:
        found = recognise(headers, filename, Kind.ACCOUNTS).columns
        columns = {"id" if name == "crm_id" else name: header for name, header in found.items()}
    except ImportFileError:
        columns = {}
    by_normal = {normal_header(h): h for h in reversed(headers)}
    for name, aliases in _account_aliases().items():
        if name not in columns:
            header = next(
                (by_normal[normal_header(a)] for a in aliases if normal_header(a) in by_normal), None
            )
            if header is not None:
                columns[name] = header
    missing = required_columns_missing(list(columns))
    if missing:
        examples = _account_aliases()
        hints = [f"an id (e.g. {', '.join(examples['id'][:3])})"] if "id" in missing else []
        if len(missing) > len(hints):
            keys = [examples[name][0] for name in ("name", "website", "domain", "email")]
            hints.append(f"a name, website, domain or e-mail (e.g. {', '.join(keys)})")
        raise MappingFileError(
            f"{filename}: no column for {' and '.join(hints)}; its columns: {', '.join(headers)}"
        )
    return {k: v for k, v in columns.items() if k in ENGINE_COLUMNS}


def read_accounts(path: Path) -> AccountsFile:
    """Stream one CSV export into an accounts table (`id`, `name`, `website`/`domain`/`email`, `country`)."""
    filename = path.name
    try:
        facts = examine(path, filename)
        with CsvRows(facts) as rows:
            columns = engine_columns(rows.header, filename)
            positions = {name: rows.header.index(header) for name, header in columns.items()}
            values: dict[str, list[str]] = {name: [] for name in columns}
            lines: list[int] = []
            without_id: list[int] = []
            for line, cells in rows:
                cell = {name: cells[p].strip() if p < len(cells) else "" for name, p in positions.items()}
                if not cell["id"]:
                    without_id.append(line)
                    continue
                lines.append(line)
                for name in columns:
                    values[name].append(cell[name])
    except ImportFileError as exc:
        raise MappingFileError(str(exc)) from None
    table = pa.table({name: pa.array(cells, pa.string()) for name, cells in values.items()})
    return AccountsFile(filename, table, lines, without_id)


def write_overlaps(pairs: pa.Table, out: TextIO) -> None:
    """Write matched pairs as CSV (out opened with newline=""), every text cell safe in a spreadsheet."""
    writer = csv.writer(out)
    writer.writerow(OUTPUT_COLUMNS)
    columns = [pairs.column(name).to_pylist() for name in OUTPUT_COLUMNS]
    for row in zip(*columns, strict=True):
        writer.writerow(_cells(row))


def _cells(row: Iterable[object]) -> list[str]:
    cells = []
    for value in row:
        if value is None:
            cells.append("")
        elif isinstance(value, float):
            cells.append(f"{value:.4f}")
        else:
            cells.append(neutralise(str(value)))
    return cells


def map_files(
    ours_path: Path, theirs_path: Path, output: Path
) -> tuple[MatchResult, AccountsFile, AccountsFile]:
    """Match two exports and write one row per matched pair to `output`."""
    ours, theirs = read_accounts(ours_path), read_accounts(theirs_path)
    result = match_accounts(ours.accounts, theirs.accounts)
    with output.open("w", newline="", encoding="utf-8") as out:
        write_overlaps(result.pairs, out)
    return result, ours, theirs


def method_counts(pairs: pa.Table) -> dict[str, int]:
    """How many pairs each method found, for the summary line."""
    counts = pc.value_counts(pairs.column("method")).to_pylist() if pairs.num_rows else []
    return {item["values"]: item["counts"] for item in counts}
