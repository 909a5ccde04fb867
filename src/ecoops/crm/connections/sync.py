"""What every CRM sync shares: its run's row and counts, each object's checkpoint, and a batch of API
records written through the CSV import's pipeline (`import_rows`) as one transaction.

A batch's records (all or nothing, as a file is), the deletions it carries, its problems (for the
run's error report), the run's counts and the object's checkpoint commit together, so a sync killed at
any point resumes at the last batch it committed. A provider's sync (crm/salesforce/sync.py,
crm/hubspot/sync.py) reads the API and turns its records into rows under that CRM's export header.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from ecoops import audit
from ecoops.actors import Actor
from ecoops.audit import utcnow
from ecoops.config import Settings
from ecoops.crm.connections import fields
from ecoops.crm.connections.models import CrmConnection, SyncCheckpoint, SyncRun
from ecoops.crm.imports.formats import Mapping
from ecoops.crm.imports.records import Problem, Workspace
from ecoops.crm.imports.service import COMMITTED, REJECTED, ImportOutcome, ImportRequest, import_rows
from ecoops.crm.imports.staging import ProblemLog
from ecoops.crm.imports.values import DateOrder
from ecoops.crm.models import Account, Contact, ImportRun, Opportunity, OpportunityStageChange
from ecoops.db import transaction

Progress = Callable[[str, int, int], None]  # told (message, records read, records the query holds)
Removes = Callable[[Session, list[str]], int]  # deletes records by CRM id; returns how many went


@dataclass
class Counts:
    records: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    rejected: int = 0

    def add(self, other: Counts) -> None:
        for name in vars(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Rows:
    """Records of one kind as rows for the import pipeline: (line, CRM id, cells under `header`).

    `name` is what the run counts them under (its object), `read` how many API records they stand for."""

    name: str
    header: list[str]
    mapping: Mapping
    rows: list[tuple[int, str, list[str]]]
    read: int


@dataclass
class Batch:
    """One batch of an object's records: its rows (a deal's stage history rides with its deals as a
    second part), the ids the CRM deleted, and `stamp`, the modification time of its last record (the
    object's checkpoint once stored)."""

    name: str
    parts: list[Rows]
    gone: list[str]
    stamp: datetime | None
    removes: Removes | None = None

    @property
    def read(self) -> int:
        return sum(part.read for part in self.parts)


def remove_accounts(session: Session, ids: list[str]) -> int:
    return session.execute(delete(Account).where(Account.crm_id.in_(ids))).rowcount or 0  # type: ignore[attr-defined]


def remove_contacts(session: Session, ids: list[str]) -> int:
    return session.execute(delete(Contact).where(Contact.crm_id.in_(ids))).rowcount or 0  # type: ignore[attr-defined]


def remove_opportunities(session: Session, ids: list[str]) -> int:
    session.execute(delete(OpportunityStageChange).where(OpportunityStageChange.opportunity_crm_id.in_(ids)))
    return session.execute(delete(Opportunity).where(Opportunity.crm_id.in_(ids))).rowcount or 0  # type: ignore[attr-defined]


def text(value: Any) -> str:
    """An API value as a CSV cell: None empty, booleans as the exports write them."""
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def as_utc(moment: datetime) -> datetime:
    """A stored time in UTC (SQLite gives it back without its zone; PostgreSQL in the session's zone)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def connected(session: Session, provider: str, label: str) -> CrmConnection:
    from ecoops.permissions import NotFound

    connection = session.scalar(
        select(CrmConnection).where(CrmConnection.provider == provider, CrmConnection.status == "connected")
    )
    if connection is None:
        raise NotFound(f"{label} is not connected: connect it on the {label} page first")
    return connection


class CrmSync:
    """One run of one provider's sync: subclasses read the API (`sync_all`) and hand over batches."""

    provider = ""
    label = ""  # as people call the CRM: "Salesforce", "HubSpot"

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        actor: Actor,
        *,
        trigger: str,
        progress: Progress | None = None,
    ) -> None:
        self.sessions, self.settings, self.actor, self.trigger = sessions, settings, actor, trigger
        self.progress: Progress = progress or (lambda _message, _done, _total: None)
        self.expected = 0  # records the current object's read holds, where the API says
        with transaction(sessions) as session:
            connection = connected(session, self.provider, self.label)
            self.connection_id = connection.id
            self.prepare(connection)
            self.chosen = fields.chosen(session, connection.id)  # object → {field → CRM field}
            for stopped in session.scalars(
                select(SyncRun).where(SyncRun.connection_id == connection.id, SyncRun.status == "running")
            ):  # a sync killed outright (its batches committed stay; this run resumes after them)
                stopped.status, stopped.error = "stopped", "stopped before it finished; the next run resumed"
            run = SyncRun(connection_id=connection.id, trigger=trigger, actor_label=actor.label[:200])
            session.add(run)
            session.flush()
            self.run_id = run.id
        self.workspace = Workspace(currency=settings.currency, tz=settings.tz)
        self.totals = Counts()
        self.per_object: dict[str, Counts] = {}
        self.warnings: list[str] = []  # what the run reports beside its counts (a mapped field gone)

    # -- what a provider supplies -------------------------------------------------------------------

    def prepare(self, connection: CrmConnection) -> None:
        """Read what the sync needs from the connection row (its credentials), in the run's first
        transaction."""

    def sync_all(self) -> str:
        """Sync every object; the run's status ("done", or "rejected" when a batch was refused)."""
        raise NotImplementedError

    def api_usage(self) -> tuple[int, int] | None:
        """(used, max) of the CRM's daily API allowance, as its last answer said."""
        return None

    # -- the run ----------------------------------------------------------------------------------

    def run(self) -> SyncRun:
        """Sync every object; the run's row records how it went, whatever happens."""
        try:
            status = self.sync_all()
        except Exception as exc:
            self._finish("failed", f"{type(exc).__name__}: {exc}"[:2000])
            raise
        return self._finish(status, "")

    def _finish(self, status: str, error: str) -> SyncRun:
        with transaction(self.sessions) as session:
            run = session.get_one(SyncRun, self.run_id)
            run.status, run.error, run.finished_at = status, error, utcnow()
            run.warnings = self.warnings
            connection = session.get_one(CrmConnection, self.connection_id)
            usage = self.api_usage()
            if usage is not None:
                connection.api_used, connection.api_max = usage
            if status == "done":
                connection.last_success_at = run.finished_at
            audit.record(
                session,
                self.actor,
                f"{self.provider}.sync_{status}",
                "crm_sync_run",
                run.id,
                new=run.new,
                updated=run.updated,
                deleted=run.deleted,
                rejected=run.rejected,
                error=error,
            )
            session.flush()
            session.expunge(run)
        return run

    # -- checkpoints and batches ------------------------------------------------------------------

    def checkpoint(self, name: str) -> datetime | None:
        """Where `name` was stored up to, in UTC (None before its first batch)."""
        with transaction(self.sessions) as session:
            stored = session.scalar(
                select(SyncCheckpoint.modstamp).where(
                    SyncCheckpoint.connection_id == self.connection_id, SyncCheckpoint.object_name == name
                )
            )
        return as_utc(stored) if stored is not None else None

    def begun(self, name: str) -> bool:
        """Whether a batch of `name` was ever stored (a first load read unordered has no stamp until
        its last batch, but a batch of it stored means records it read may since have been deleted)."""
        with transaction(self.sessions) as session:
            found = session.scalar(
                select(SyncCheckpoint.id).where(
                    SyncCheckpoint.connection_id == self.connection_id, SyncCheckpoint.object_name == name
                )
            )
        return found is not None

    def since(self, name: str) -> datetime | None:
        """The checkpoint less the overlap window: a record stamped late is read again, not missed."""
        checkpoint = self.checkpoint(name)
        if checkpoint is None:
            return None
        return checkpoint - timedelta(seconds=self.settings.crm_sync_overlap_seconds)

    def move_checkpoint(self, session: Session, name: str, stamp: datetime | None) -> None:
        """The object's checkpoint at `stamp` (None: made without a stamp, or left where it is)."""
        checkpoint = session.scalar(
            select(SyncCheckpoint).where(
                SyncCheckpoint.connection_id == self.connection_id, SyncCheckpoint.object_name == name
            )
        )
        if checkpoint is None:
            checkpoint = SyncCheckpoint(connection_id=self.connection_id, object_name=name)
            session.add(checkpoint)
        checkpoint.modstamp = stamp or checkpoint.modstamp
        checkpoint.updated_at = utcnow()

    def counted(self, name: str, batch: Counts) -> Counts:
        """Add a committed batch's counts to the object's and the run's (in memory) and report progress."""
        counts = self.per_object.setdefault(name, Counts())
        counts.add(batch)
        self.totals.add(batch)
        self.progress(
            f"{name}: {counts.records:,} of {self.expected:,} records", counts.records, self.expected
        )
        return counts

    def write_batch(self, batch: Batch) -> bool:
        """The batch's parts through the import pipeline, its deletions and its checkpoint, in one
        transaction. A refused record refuses the whole batch (a savepoint undoes the parts already
        written): only its problems and the counts are kept, and False is returned."""
        if not batch.read:
            return True
        counted: list[tuple[str, Counts]] = []
        with transaction(self.sessions) as session:
            problems = ProblemLog(session.connection())
            outcomes: list[tuple[Rows, ImportOutcome]] = []
            kept: list[Problem] = []
            with session.begin_nested() as savepoint:  # released at the end unless rolled back here
                for part in batch.parts:
                    outcome = import_rows(
                        session,
                        self.actor,
                        part.header,
                        ((line, cells) for line, _crm_id, cells in part.rows),
                        mapping=part.mapping,
                        date_order=DateOrder.MDY,  # the APIs write ISO dates; the order is never consulted
                        request=ImportRequest(),
                        workspace=self.workspace,
                        today=self.settings.today(),
                        problems=problems,
                    )
                    outcomes.append((part, outcome))
                    if outcome.status != COMMITTED:
                        # undo the parts written; keep the problems (their rows go with the savepoint)
                        kept = list(problems.ordered())
                        savepoint.rollback()
                        break
            refused = outcomes[-1][1].status != COMMITTED
            if refused:
                ids = {line: crm_id for line, crm_id, _cells in outcomes[-1][0].rows}
                problems.add(kept)
                lines = sorted({p.line for p in kept})
                problems.add([Problem(line, "Id", ids[line], "this record was refused") for line in lines])
            for number, (part, outcome) in enumerate(outcomes):
                counts = Counts(records=part.read, rejected=outcome.rejected)
                if not refused:
                    counts.new, counts.updated, counts.unchanged = (
                        outcome.new,
                        outcome.updated,
                        outcome.unchanged,
                    )
                    if number == 0 and batch.gone and batch.removes is not None:
                        counts.deleted = batch.removes(session, batch.gone)
                import_run = self._import_run(session, part, counts, outcome.status)
                if outcome.status != COMMITTED:
                    problems.keep_for_run(import_run.id)
                self.count(session, part.name, counts)
                counted.append((part.name, counts))
            if not refused:
                self.move_checkpoint(session, batch.name, batch.stamp)
            problems.drop()
        for name, counts in counted:
            self.counted(name, counts)
        return not refused

    def _import_run(self, session: Session, part: Rows, counts: Counts, status: str) -> ImportRun:
        """The object's import run within this sync (its error report), made at its first batch."""
        run = session.get_one(SyncRun, self.run_id)
        known = run.import_runs.get(part.name)
        import_run = session.get(ImportRun, known) if known else None
        if import_run is None:
            import_run = ImportRun(
                kind=part.mapping.kind.value,
                source_format=f"{self.provider}_sync",
                filename=f"{self.label} {part.name}, sync {self.run_id}",
                sha256="",
                status=COMMITTED,
                mapping=part.mapping.describe(),
                actor_label=self.actor.label[:200],
            )
            session.add(import_run)
            session.flush()
            run.import_runs = {**run.import_runs, part.name: import_run.id}
        import_run.rows += counts.records - counts.deleted
        import_run.new += counts.new
        import_run.updated += counts.updated
        import_run.unchanged += counts.unchanged
        import_run.rejected += counts.rejected
        if status == REJECTED:
            import_run.status = REJECTED
        import_run.finished_at = utcnow()
        return import_run

    def count(self, session: Session, name: str, counts: Counts) -> None:
        """The run's stored counts, overall and per object, moved by a batch (in its transaction)."""
        run = session.get_one(SyncRun, self.run_id)
        for attribute in vars(counts):
            setattr(run, attribute, getattr(run, attribute) + getattr(counts, attribute))
        so_far = dict(run.objects.get(name, {}))
        for attribute, value in vars(counts).items():
            so_far[attribute] = so_far.get(attribute, 0) + value
        run.objects = {**run.objects, name: so_far}
