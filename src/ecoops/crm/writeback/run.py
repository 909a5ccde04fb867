"""A write-back run, for any CRM: the desired values (values.py) against the ledger, then batch by batch
the CRM's current values read, each field decided (plan.py), the writes sent in one call, the ledger
and the run's counts committed.

The CRM side is a `Writer` (Salesforce: crm/salesforce/writeback.py). Each batch is one transaction
after its call, so a run stopped part-way keeps what it wrote, and the next run finds those values
in the ledger (nothing written twice). A dry run reads the CRM the same way and writes nothing, not
even the ledger; its would-be changes are its items.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from ecoops import audit
from ecoops.actors import Actor
from ecoops.audit import utcnow
from ecoops.config import Settings
from ecoops.crm.writeback.models import LedgerEntry, WritebackField, WritebackItem, WritebackRun
from ecoops.crm.writeback.plan import Outcome, cut, decide, needs_look
from ecoops.crm.writeback.targets import TARGETS
from ecoops.crm.writeback.values import desired_values
from ecoops.db import transaction

Progress = Callable[[int, int, str], None]  # (records done, records to look at, message)


class Writer(Protocol):
    """A CRM's side of write-back."""

    batch_size: int  # records per read and per write call

    def is_crm_id(self, record: str, record_id: str) -> bool:
        """Whether `record_id` is an id of the CRM's object for ecoops' `record` kind."""

    def object_name(self, record: str) -> str: ...

    def current(self, object_name: str, ids: list[str], fields: list[str]) -> dict[str, dict[str, str]]:
        """The CRM's values now, as text ("" for empty); a record it no longer has is left out."""

    def write(self, object_name: str, records: list[tuple[str, dict[str, str]]]) -> list[str]:
        """Write each record's fields; per record "" when it was written, else the CRM's reason."""


@dataclass
class Tally:
    written: int = 0
    unchanged: int = 0
    conflicts: int = 0
    failed: int = 0
    calls: int = 0


Key = tuple[str, str]  # (record id, CRM field)


def enabled_fields(session: Session, connection_id: int) -> list[WritebackField]:
    return list(
        session.scalars(
            select(WritebackField)
            .where(WritebackField.connection_id == connection_id, WritebackField.enabled.is_(True))
            .order_by(WritebackField.id)
        )
    )


class WritebackRunner:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        actor: Actor,
        connection_id: int,
        writer: Writer,
        *,
        trigger: str,
        dry_run: bool,
        progress: Progress | None = None,
    ) -> None:
        self.sessions, self.settings, self.actor = sessions, settings, actor
        self.connection_id, self.writer, self.dry_run = connection_id, writer, dry_run
        self.progress: Progress = progress or (lambda _done, _total, _message: None)
        self.tally = Tally()
        with transaction(sessions) as session:
            run = WritebackRun(
                connection_id=connection_id, trigger=trigger, dry_run=dry_run, actor_label=actor.label[:200]
            )
            session.add(run)
            session.flush()
            self.run_id = run.id

    def run(self) -> WritebackRun:
        try:
            self._run()
        except Exception as exc:
            self._finish("failed", f"{type(exc).__name__}: {exc}"[:2000])
            raise
        return self._finish("done", "")

    def _run(self) -> None:
        with transaction(self.sessions) as session:
            fields = enabled_fields(session, self.connection_id)
            if not fields:
                return
            desired = desired_values(
                session, self.settings, {f.target for f in fields}, self.writer.is_crm_id
            )
            ledger: dict[Key, tuple[int, str]] = {
                (record_id, crm_field): (entry_id, value)
                for entry_id, record_id, crm_field, value in session.execute(
                    select(
                        LedgerEntry.id, LedgerEntry.record_id, LedgerEntry.crm_field, LedgerEntry.value
                    ).where(
                        LedgerEntry.connection_id == self.connection_id,
                        LedgerEntry.crm_field.in_({f.crm_field for f in fields}),
                    )
                )
            }
        # Only fields whose value differs from the ledger's are looked at in the CRM.
        pending: dict[str, dict[str, dict[str, str]]] = defaultdict(lambda: defaultdict(dict))
        for f in fields:
            object_name = self.writer.object_name(TARGETS[f.target].record)
            for record_id, value in desired.get(f.target, {}).items():
                value = cut(value, f.field_length)
                last = ledger.get((record_id, f.crm_field))
                if needs_look(value, last[1] if last else None):
                    pending[object_name][record_id][f.crm_field] = value
                else:
                    self.tally.unchanged += 1
        total = sum(len(records) for records in pending.values())
        done = 0
        for object_name, records in pending.items():
            ids = sorted(records)
            for start in range(0, len(ids), self.writer.batch_size):
                chunk = ids[start : start + self.writer.batch_size]
                self._batch(object_name, {i: records[i] for i in chunk}, ledger)
                done += len(chunk)
                self.progress(done, total, f"{object_name}: {done:,} of {total:,} records looked at")

    def _batch(
        self, object_name: str, records: dict[str, dict[str, str]], ledger: dict[Key, tuple[int, str]]
    ) -> None:
        fields = sorted({name for values in records.values() for name in values})
        current = self.writer.current(object_name, list(records), fields)
        items: list[dict[str, Any]] = []
        settled: list[tuple[str, str, str]] = []  # (record id, field, value) the CRM now holds as ours
        writes: list[tuple[str, dict[str, str]]] = []

        def item(outcome: str, record_id: str, name: str, new: str, old: str, message: str = "") -> None:
            last = ledger.get((record_id, name))
            items.append(
                {
                    "run_id": self.run_id,
                    "outcome": outcome,
                    "object_name": object_name,
                    "record_id": record_id,
                    "crm_field": name,
                    "old": old,
                    "new": new,
                    "last_written": last[1] if last else None,
                    "message": message,
                }
            )

        for record_id, values in records.items():
            now = current.get(record_id)
            if now is None:
                for name, value in values.items():
                    item("failed", record_id, name, value, "", "the CRM no longer has this record")
                self.tally.failed += len(values)
                continue
            to_write: dict[str, str] = {}
            for name, value in values.items():
                last = ledger.get((record_id, name))
                outcome = decide(value, last[1] if last else None, now.get(name, ""))
                if outcome == Outcome.UNCHANGED:
                    settled.append((record_id, name, value))
                    self.tally.unchanged += 1
                elif outcome == Outcome.CONFLICT:
                    item("conflict", record_id, name, value, now.get(name, ""), "changed in the CRM since")
                    self.tally.conflicts += 1
                else:
                    to_write[name] = value
            if to_write:
                writes.append((record_id, to_write))
        if self.dry_run:
            for record_id, values in writes:
                for name, value in values.items():
                    item("change", record_id, name, value, current[record_id].get(name, ""))
                self.tally.written += len(values)
        elif writes:
            errors = self.writer.write(object_name, writes)
            self.tally.calls += 1
            for (record_id, values), error in zip(writes, errors, strict=True):
                if error:
                    for name, value in values.items():
                        item("failed", record_id, name, value, current[record_id].get(name, ""), error)
                    self.tally.failed += len(values)
                else:
                    settled.extend((record_id, name, value) for name, value in values.items())
                    self.tally.written += len(values)
        self._commit(object_name, settled, items, ledger)

    def _commit(
        self,
        object_name: str,
        settled: list[tuple[str, str, str]],
        items: list[dict[str, Any]],
        ledger: dict[Key, tuple[int, str]],
    ) -> None:
        now = utcnow()
        with transaction(self.sessions) as session:
            if not self.dry_run:
                known = [(r, n, v) for r, n, v in settled if (r, n) in ledger]
                if known:
                    session.execute(
                        update(LedgerEntry),
                        [{"id": ledger[(r, n)][0], "value": v, "written_at": now} for r, n, v in known],
                    )
                fresh = [(r, n, v) for r, n, v in settled if (r, n) not in ledger]
                if fresh:
                    session.execute(
                        insert(LedgerEntry),
                        [
                            {
                                "connection_id": self.connection_id,
                                "object_name": object_name,
                                "record_id": r,
                                "crm_field": n,
                                "value": v,
                                "written_at": now,
                            }
                            for r, n, v in fresh
                        ],
                    )
            if items:
                session.execute(insert(WritebackItem), items)
            self._count(session)

    def _count(self, session: Session) -> WritebackRun:
        run = session.get_one(WritebackRun, self.run_id)
        t = self.tally
        run.written, run.unchanged, run.conflicts, run.failed, run.calls = (
            t.written,
            t.unchanged,
            t.conflicts,
            t.failed,
            t.calls,
        )
        return run

    def _finish(self, status: str, error: str) -> WritebackRun:
        with transaction(self.sessions) as session:
            run = self._count(session)
            run.status, run.error, run.finished_at = status, error, utcnow()
            audit.record(
                session,
                self.actor,
                "crm.writeback_dry_run" if self.dry_run else f"crm.writeback_{status}",
                "crm_writeback_run",
                run.id,
                written=run.written,
                unchanged=run.unchanged,
                conflicts=run.conflicts,
                failed=run.failed,
                error=error,
            )
            session.flush()
            session.expunge(run)
        return run
