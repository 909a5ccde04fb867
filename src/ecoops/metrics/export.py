"""Figures and records as CSV or JSON: one writer for pages, API and CLI, formulas neutralised in CSV."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from typing import Any

import pyarrow as pa

from ecoops.crm.imports.report import neutralise


def _cell(value: object) -> object:
    # Numbers and dates cannot run as formulas; text typed by people (names, owners) can.
    return neutralise(value) if isinstance(value, str) else ("" if value is None else value)


def display(value: object) -> str:
    """A figure as a person reads it: "no data" for null, thousands separated, fractions to 2 places."""
    if value is None:
        return "no data"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table_csv(table: pa.Table) -> str:
    """The table as CSV with a header row; empty cells for "no data"."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.column_names)
    for row in table.to_pylist():
        writer.writerow([_cell(row[c]) for c in table.column_names])
    return out.getvalue()


def _json_default(value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def rows(table: pa.Table) -> list[dict[str, Any]]:
    """The table's rows as plain values; null stays null ("no data")."""
    result: list[dict[str, Any]] = table.to_pylist()
    return result


def tables_json(tables: dict[str, pa.Table]) -> str:
    """Several named tables as one JSON object of row lists."""
    return json.dumps({name: rows(t) for name, t in tables.items()}, default=_json_default, indent=2)
