"""Importing partner touches from a CSV file: the `touches` kind, through the batch rules of
attribution/touch_batch.py, so a file and `POST /api/v1/touches` accept and refuse the same rows.

Touch files are small (a team's history, thousands of rows), so every row is planned in memory
before anything is written: the counts of a dry run are the counts of the real run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from ecoops.actors import Actor
from ecoops.attribution import touch_batch
from ecoops.attribution.models import PartnerTouch
from ecoops.crm.imports.fields import Kind
from ecoops.crm.imports.records import Problem, Record, RecordBuilder, RowRejected, id_reader
from ecoops.crm.imports.records import text_reader as text
from ecoops.crm.imports.staging import ProblemLog
from ecoops.crm.imports.values import CellReader

# The batch's field names, as the file's fields are named.
_FIELD = {"partner_id": "partner"}


def parse_kind(cell: str) -> str:
    """ "Co-sell", "Deal Registration", "MARKETPLACE" … → a touch kind (checked with the batch's rules)."""
    return re.sub(r"[^a-z]+", "_", cell.strip().lower()).strip("_")


class TouchRows(RecordBuilder):
    kind = Kind.TOUCHES
    table = cast(Table, PartnerTouch.__table__)
    columns = (
        "external_id",
        "partner",
        "kind",
        "touched_on",
        "opportunity_crm_id",
        "account_crm_id",
        "note",
        "status",
    )

    @property
    def readable(self) -> dict[str, CellReader]:
        return {
            "external_id": text(touch_batch.MAX_EXTERNAL_ID),
            "partner": text(300),
            "kind": parse_kind,
            "touched_on": self.dates,
            "opportunity_crm_id": id_reader(self.salesforce),
            "account_crm_id": id_reader(self.salesforce),
            "note": text(touch_batch.MAX_NOTE),
            "status": lambda cell: cell.strip().lower(),
        }

    def build(self, line: int, cells: list[str]) -> list[Record]:
        return [self.record(self.cells(line, cells))]


@dataclass
class TouchPlan:
    rows: list[touch_batch.TouchIn] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    new: int = 0
    existing: int = 0


class TouchListImport:
    """Reads and checks every row, then (unless a dry run, or refused) stores the new touches."""

    def __init__(self, session: Session, actor: Actor, rows: TouchRows, problems: ProblemLog, today: date):
        self.session = session
        self.actor = actor
        self.rows = rows
        self.problems = problems
        self.today = today
        self.partner = touch_batch.PartnerNames(session)

    def _problem(self, line: int, name: str, value: str, message: str) -> None:
        header = self.rows.mapping.columns.get(name, name)
        self.problems.add([Problem(line, header, value, message)])

    def plan(self, lines: Iterable[tuple[int, list[str]]]) -> TouchPlan:
        read: list[tuple[int, dict[str, object]]] = []
        for line, cells in lines:
            try:
                record = self.rows.build(line, cells)[0]
            except RowRejected as rejected:
                self.problems.add(rejected.problems)
                continue
            read.append((line, dict(zip(self.rows.columns, record, strict=True))))
        candidates: list[tuple[int, touch_batch.TouchIn]] = []
        for line, values in read:
            named = str(values["partner"] or "")
            partner_id = self.partner(named)
            if partner_id is None:
                self._problem(line, "partner", named, "no partner with this CRM id or name")
                continue
            on = values["touched_on"]
            candidates.append(
                (
                    line,
                    touch_batch.TouchIn(
                        external_id=str(values["external_id"] or ""),
                        partner_id=partner_id,
                        kind=str(values["kind"] or ""),
                        touched_on=date.fromisoformat(str(on)) if on else None,
                        opportunity_crm_id=str(values["opportunity_crm_id"] or ""),
                        account_crm_id=str(values["account_crm_id"] or ""),
                        note=str(values["note"] or ""),
                        status=str(values["status"] or "proposed"),
                    ),
                )
            )
        checked = touch_batch.check(
            self.session, [row for _, row in candidates], self.today, [line for line, _ in candidates]
        )
        refused = {p.row for p in checked}
        by_line = dict(candidates)
        for p in checked:
            value = "" if p.field == "partner_id" else str(getattr(by_line[p.row], p.field, "") or "")
            self._problem(p.row, _FIELD.get(p.field, p.field), value, p.message)
        plan = TouchPlan()
        for line, row in candidates:
            if line not in refused:
                plan.rows.append(row)
                plan.lines.append(line)
        stored = set(
            self.session.scalars(
                select(PartnerTouch.external_id).where(
                    PartnerTouch.external_id.in_([r.external_id.strip() for r in plan.rows])
                )
            )
        )
        plan.existing = sum(1 for r in plan.rows if r.external_id.strip() in stored)
        plan.new = len(plan.rows) - plan.existing
        return plan

    def write(self, plan: TouchPlan) -> None:
        if plan.rows:
            touch_batch.add_touches(self.session, self.actor, plan.rows, self.today, plan.lines)
