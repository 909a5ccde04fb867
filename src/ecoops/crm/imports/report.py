"""The error report: one CSV line per problem (line, column, value, message), safe to open in a spreadsheet.

Cells starting with `=`, `+`, `-`, `@` (or a tab or carriage return) would run as formulas in
Excel or Sheets, so they get a leading `'`, which spreadsheets show as text.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import TextIO

from ecoops.crm.imports.records import Problem

REPORT_HEADER = ("line", "column", "value", "problem")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    """A cell a spreadsheet will show as text, never evaluate."""
    return "'" + cell if cell.startswith(_FORMULA_STARTS) else cell


def write_report(problems: Iterable[Problem], out: TextIO) -> int:
    """Write the report to `out` (opened with newline=""); returns the number of problems written."""
    writer = csv.writer(out)
    writer.writerow(REPORT_HEADER)
    written = 0
    for problem in problems:
        writer.writerow(
            [problem.line, neutralise(problem.field), neutralise(problem.value), neutralise(problem.message)]
        )
        written += 1
    return written
