"""The import pipeline: inspect a file (format, mapping, preview), then dry-run or commit it as one unit.

All or nothing by default: a file with any refused row writes no record, only its `ImportRun`
(status `rejected`) and the problems for the error report. `accept_valid` commits the valid rows
and keeps the refused ones in the report. A dry run goes the same way and writes nothing at all.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.actors import Actor
from ecoops.attribution.review import partner_field_effect, partner_field_sentence
from ecoops.audit import utcnow
from ecoops.crm.imports.fields import Kind
from ecoops.crm.imports.formats import ImportFileError, Mapping, explicit_mapping, recognise
from ecoops.crm.imports.outcome_events import emit_outcome_events
from ecoops.crm.imports.partner_list import PartnerCounts, PartnerListImport, PartnerRows
from ecoops.crm.imports.reader import CsvRows, FileFacts, examine
from ecoops.crm.imports.records import BUILDERS, Problem, RecordBuilder, RowRejected, Workspace
from ecoops.crm.imports.report import write_report
from ecoops.crm.imports.staging import ProblemLog, RecordStage
from ecoops.crm.imports.touch_list import TouchListImport, TouchRows
from ecoops.crm.imports.values import DateOrder, date_order_evidence
from ecoops.crm.models import ImportRejection, ImportRun, Opportunity
from ecoops.pagination import Page, paginate
from ecoops.permissions import NotFound, Permission, require

COMMITTED, REJECTED, DRY_RUN = "committed", "rejected", "dry_run"
PREVIEW_ROWS = 10
DATE_SAMPLE_ROWS = 10_000  # rows read up front to tell a file's day-first from month-first dates
PROBLEMS_SHOWN = 100
ROW_BATCH = 5000  # rows read and checked together, column by column
DATE_FIELDS = ("created_on", "close_date", "changed_on", "stage_since")

Progress = Callable[[int], None]  # told the bytes read so far


@dataclass(frozen=True)
class ImportRequest:
    """What the user chose: the kind or a column mapping (else recognised), and how to commit."""

    kind: Kind | None = None
    mapping: dict[str, Any] | None = None  # {"kind": …, "columns": {field: header}, "date_order": …}
    date_order: DateOrder | None = None
    dry_run: bool = False
    accept_valid: bool = False


@dataclass
class PreviewRow:
    line: int
    values: list[object]
    problems: list[Problem]


@dataclass
class Inspection:
    """What a file is and how it will be read, before anything is written."""

    facts: FileFacts
    headers: list[str]
    mapping: Mapping
    date_order: DateOrder
    date_order_source: str  # given | detected | default
    columns: tuple[str, ...]
    preview: list[PreviewRow]


@dataclass
class ImportOutcome:
    status: str
    kind: Kind
    source_format: str
    rows: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    run_id: int | None = None
    problems: list[Problem] = field(default_factory=list)  # the first PROBLEMS_SHOWN, by line
    created: list[str] = field(default_factory=list)  # programs and tiers a partner list creates
    # Opportunities: the CRM-partner-field rule in force, how many deals it decides (attribution/review.py).
    partner_field_rule: str = ""
    partner_field_deals: int = 0

    def summary(self) -> str:
        """A committed import in words, with what the CRM-partner-field rule does to the deals."""
        text = f"Imported {self.rows:,} rows: {self.new:,} new, {self.updated:,} updated."
        if self.partner_field_rule:
            text += " " + partner_field_sentence(self.partner_field_rule, self.partner_field_deals)
        return text


def _builder(mapping: Mapping, headers: list[str], workspace: Workspace, order: DateOrder) -> RecordBuilder:
    if mapping.kind == Kind.PARTNERS:
        return PartnerRows(mapping, headers, workspace, order)
    if mapping.kind == Kind.TOUCHES:
        return TouchRows(mapping, headers, workspace, order)
    return BUILDERS[mapping.kind](mapping, headers, workspace, order)


def _mapping(rows: CsvRows, request: ImportRequest) -> Mapping:
    if request.mapping is not None:
        return explicit_mapping(request.mapping, rows.header, rows.facts.filename)
    return recognise(rows.header, rows.facts.filename, request.kind)


def _date_order(rows: CsvRows, mapping: Mapping, request: ImportRequest) -> tuple[DateOrder, str]:
    """The order given, else the one the first rows' unambiguous dates show, else month-first."""
    given = request.date_order or mapping.date_order
    if given is not None:
        return given, "given"
    headers = [mapping.columns[f] for f in DATE_FIELDS if f in mapping.columns]
    headers += list(mapping.stage_columns.values())
    positions = [rows.header.index(h) for h in headers]
    votes: Counter[DateOrder] = Counter()
    for count, (_line, cells) in enumerate(rows, 1):
        for position in positions:
            if position < len(cells) and (evidence := date_order_evidence(cells[position])):
                votes[evidence] += 1
        if count >= DATE_SAMPLE_ROWS:
            break
    if votes:
        return votes.most_common(1)[0][0], "detected"
    return DateOrder.MDY, "default"


def inspect_file(
    actor: Actor, path: Path, *, filename: str, request: ImportRequest, workspace: Workspace
) -> Inspection:
    """Recognise the file and read its first rows as they would be imported."""
    require(actor, Permission.IMPORT_DATA)
    facts = examine(path, filename)
    with CsvRows(facts) as rows:
        mapping = _mapping(rows, request)
        order, source = _date_order(rows, mapping, request)
    with CsvRows(facts) as rows:
        builder = _builder(mapping, rows.header, workspace, order)
        preview: list[PreviewRow] = []
        for line, cells in rows:
            try:
                records = builder.build(line, cells)
                preview.extend(PreviewRow(line, list(record), []) for record in records)
            except RowRejected as rejected:
                preview.append(PreviewRow(line, [], rejected.problems))
            if len(preview) >= PREVIEW_ROWS:
                break
    if not preview:
        raise ImportFileError(f"{filename}: the file has a header but no rows")
    return Inspection(facts, rows.header, mapping, order, source, builder.columns, preview)


def file_headers(actor: Actor, path: Path, *, filename: str) -> tuple[FileFacts, list[str]]:
    """The file's facts and header row, for mapping a file no profile recognises."""
    require(actor, Permission.IMPORT_DATA)
    facts = examine(path, filename)
    with CsvRows(facts) as rows:
        return facts, rows.header


@dataclass
class _Tally:
    rows: int = 0
    empty: int = 0  # rows that hold no record (e.g. field history about other fields)


def _tallied(lines: Iterable[tuple[int, list[str]]], tally: _Tally) -> Iterator[tuple[int, list[str]]]:
    for item in lines:
        tally.rows += 1
        yield item


def _reported(rows: CsvRows, progress: Progress | None) -> Iterator[tuple[int, list[str]]]:
    for count, item in enumerate(rows, 1):
        if progress is not None and count % 5000 == 0:
            progress(rows.bytes_read)
        yield item
    if progress is not None:
        progress(rows.facts.size)


def run_import(
    session: Session,
    actor: Actor,
    path: Path,
    *,
    filename: str,
    request: ImportRequest,
    workspace: Workspace,
    today: date,
    progress: Progress | None = None,
    report_to: TextIO | None = None,
) -> ImportOutcome:
    """Import one file in the caller's transaction; `report_to` receives the full error report."""
    require(actor, Permission.IMPORT_DATA)
    inspection = inspect_file(actor, path, filename=filename, request=request, workspace=workspace)
    started = utcnow()
    session.flush()
    problems = ProblemLog(session.connection())
    with CsvRows(inspection.facts) as rows:
        outcome = import_rows(
            session,
            actor,
            rows.header,
            _reported(rows, progress),
            mapping=inspection.mapping,
            date_order=inspection.date_order,
            request=request,
            workspace=workspace,
            today=today,
            problems=problems,
        )
    if inspection.mapping.kind == Kind.OPPORTUNITIES and outcome.status == COMMITTED:
        rule, outcome.partner_field_deals = partner_field_effect(session)
        outcome.partner_field_rule = rule.value
    if not request.dry_run:
        outcome.run_id = _record_run(session, actor, inspection, outcome, problems, started)
    outcome.problems = list(problems.ordered(limit=PROBLEMS_SHOWN))
    if report_to is not None:
        write_report(problems.ordered(), report_to)
    problems.drop()
    return outcome


def import_rows(
    session: Session,
    actor: Actor,
    header: list[str],
    lines: Iterable[tuple[int, list[str]]],
    *,
    mapping: Mapping,
    date_order: DateOrder,
    request: ImportRequest,
    workspace: Workspace,
    today: date,
    problems: ProblemLog,
) -> ImportOutcome:
    """Check, compare and write one source's rows as one unit (all or nothing), in the caller's transaction.

    The rows are `(line, cells)` under `header`, from a file (`run_import`) or an API page
    (crm/salesforce/sync.py). Refused rows go to `problems`; recording a run is the caller's.
    """
    require(actor, Permission.IMPORT_DATA)
    connection = session.connection()
    outcome = ImportOutcome(status=DRY_RUN, kind=mapping.kind, source_format=mapping.source_format)
    tally = _Tally()
    builder = _builder(mapping, header, workspace, date_order)
    counted = _tallied(lines, tally)
    if isinstance(builder, PartnerRows):
        partner_import = PartnerListImport(session, actor, builder, problems, today)
        counts, changes = partner_import.plan(partner_import.read(counted))
        outcome.rejected = problems.rejected_rows()
        if _writes(outcome, request):
            partner_import.write(changes)
        _take_partner_counts(outcome, counts)
    elif isinstance(builder, TouchRows):
        touch_import = TouchListImport(session, actor, builder, problems, today)
        plan = touch_import.plan(counted)
        outcome.rejected = problems.rejected_rows()
        if _writes(outcome, request):
            touch_import.write(plan)
        outcome.new, outcome.unchanged = plan.new, plan.existing
    else:
        with RecordStage(connection, builder, problems) as stage:
            _stage_records(builder, stage, problems, counted, tally)
            _settle_records(builder, stage, outcome, tally)
            outcome.rejected = problems.rejected_rows()
            if _writes(outcome, request) and (outcome.new or outcome.updated):
                if builder.table is Opportunity.__table__ and outcome.updated:
                    emit_outcome_events(session, stage.stage)
                stage.write(outcome.new)
            stage.drop()
    outcome.rows = tally.rows
    outcome.status = DRY_RUN if request.dry_run else (REJECTED if _refused(outcome, request) else COMMITTED)
    return outcome


def _refused(outcome: ImportOutcome, request: ImportRequest) -> bool:
    return outcome.rejected > 0 and not request.accept_valid


def _writes(outcome: ImportOutcome, request: ImportRequest) -> bool:
    return not request.dry_run and not _refused(outcome, request)


def _stage_records(
    builder: RecordBuilder,
    stage: RecordStage,
    problems: ProblemLog,
    lines: Iterable[tuple[int, list[str]]],
    tally: _Tally,
) -> None:
    """Read the rows in batches (whole columns at a time where the cells allow) into the stage."""
    numbers: list[int] = []
    rows: list[list[str]] = []

    def flush() -> None:
        batch = builder.build_batch(numbers, rows)
        stage.add_many(batch.records)
        problems.add(batch.problems)
        tally.empty += batch.empty_rows
        numbers.clear()
        rows.clear()

    with cyclic_gc_paused():
        for line, cells in lines:
            numbers.append(line)
            rows.append(cells)
            if len(rows) >= ROW_BATCH:
                flush()
        flush()
    stage.finish_loading()


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while rows stream: a quarter of the reading's CPU went to it.

    Reading allocates millions of lists and tuples, each of which counts towards the collector's
    next pass, yet they hold no cycles and reference counting frees every batch; so memory stays
    bounded without it. Process-wide for the duration (Python has no other switch), restored after.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _settle_records(
    builder: RecordBuilder, stage: RecordStage, outcome: ImportOutcome, tally: _Tally
) -> None:
    collapsed = 0
    if builder.key == ("crm_id",):
        stage.remove_duplicate_ids(builder.mapping.columns["crm_id"])
    else:
        collapsed = stage.collapse_history()
    outcome.new, outcome.updated = stage.count_new_and_updated()
    outcome.unchanged = stage.staged() - outcome.new - outcome.updated + collapsed + tally.empty


def _take_partner_counts(outcome: ImportOutcome, counts: PartnerCounts) -> None:
    outcome.new, outcome.updated, outcome.unchanged = counts.new, counts.updated, counts.unchanged
    outcome.created = counts.created


def _record_run(
    session: Session,
    actor: Actor,
    inspection: Inspection,
    outcome: ImportOutcome,
    problems: ProblemLog,
    started: Any,
) -> int:
    run = ImportRun(
        kind=outcome.kind.value,
        source_format=outcome.source_format,
        filename=inspection.facts.filename[:300],
        sha256=inspection.facts.sha256,
        status=outcome.status,
        rows=outcome.rows,
        new=outcome.new,
        updated=outcome.updated,
        unchanged=outcome.unchanged,
        rejected=outcome.rejected,
        mapping=inspection.mapping.describe(),
        actor_label=actor.label,
        started_at=started,
        finished_at=utcnow(),
    )
    session.add(run)
    session.flush()
    problems.keep_for_run(run.id)
    audit.record(
        session,
        actor,
        f"import.{outcome.status}",
        "import_run",
        run.id,
        kind=run.kind,
        filename=run.filename,
        rows=run.rows,
        new=run.new,
        updated=run.updated,
        unchanged=run.unchanged,
        rejected=run.rejected,
    )
    return run.id


def list_runs(session: Session, actor: Actor, *, page: int = 1, per_page: int = 50) -> Page[ImportRun]:
    require(actor, Permission.IMPORT_DATA)
    statement = select(ImportRun).order_by(ImportRun.id.desc())
    return paginate(session, statement, page=page, per_page=per_page)


def get_run(session: Session, actor: Actor, run_id: int) -> ImportRun:
    require(actor, Permission.IMPORT_DATA)
    run = session.get(ImportRun, run_id)
    if run is None:
        raise NotFound(f"no import {run_id}")
    return run


def run_problems(
    session: Session, actor: Actor, run_id: int, *, limit: int | None = None
) -> Iterator[Problem]:
    """A stored run's problems by line, for its page and its error report."""
    get_run(session, actor, run_id)
    r = ImportRejection
    statement = (
        select(r.line, r.field, r.value, r.message)
        .where(r.import_run_id == run_id)
        .order_by(r.line, r.field, r.id)
        .limit(limit)
    )
    for row in session.execute(statement):
        yield Problem(row.line, row.field, row.value, row.message)
