"""The data version: when the records that derived figures (the dashboards) read have last changed.

`data_version(session)` is two numbers:
- the stored version, the one row of `data_version`, which every transaction that changes these records
  moves just before it commits: one read by key however large the workspace, seen by every process (the
  worker, `ecoops import`, the other web processes). A transaction moves it when it flushed or
  bulk-changed a read table through the ORM, ran a Core insert, update or delete on one (the import's
  upsert), or wrote an audit event other than `UNRELATED_ACTIONS` (a change in place goes through a
  service, which audits it in the same transaction: a convention the tests enforce). Sign-ins, API tokens
  and passwords do not move it: people signing in all day would otherwise make every dashboard compute
  anew. The row is updated last, at commit, so it is the last lock a writer takes: held for the commit
  only, never part of a deadlock.
- this process's *generation*, bumped whenever a session of this process changes such a table or rolls
  such a change back: a change within this process not yet committed, or a rollback that lets ids be
  reused (as SQLite does), never leaves a stale entry behind.

The listeners here work by table name, importing no model, so that `ecoops.db` registers them for every
process that opens the database, whatever else it imports.
"""

from __future__ import annotations

import threading
from itertools import chain
from typing import Any

from sqlalchemy import Connection, Engine, column, event, select, table, update
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, UOWTransaction
from sqlalchemy.sql.dml import UpdateBase

# Every table the metrics feed, the rules in force and the names beside ids read.
READ_TABLES = frozenset(
    {
        "opportunities",
        "opportunity_stage_changes",
        "partner_touches",
        "partners",
        "partner_stage_changes",
        "memberships",
        "programs",
        "tiers",
        "referrals",
        "referral_status_changes",
        "overlap_periods",
        "accounts",
        "metric_settings_changes",
    }
)
_AUDIT_TABLE = "audit_events"

# Audit actions never written with a change to the READ_TABLES.
UNRELATED_ACTIONS = frozenset(
    {
        "session.signed_in",
        "session.signed_out",
        "api_token.created",
        "api_token.revoked",
        "user.password_changed",
        "partner_user.password_changed",
        # Goals are read beside the figures, never by them.
        "goal.created",
        "goal.updated",
        "goal.deleted",
    }
)

_stored = table("data_version", column("id"), column("version"))  # the model: metrics/models.py

_generation = 0
_generation_lock = threading.Lock()


def generation() -> int:
    return _generation


def data_version(session: Session) -> tuple[int, int]:
    """This process's generation and the committed data version."""
    stored = session.execute(select(_stored.c.version).where(_stored.c.id == 1)).scalar()
    return generation(), stored or 0


_CHANGED = "data_version_changed"  # in a session's or connection's info: a read table changed, not committed
_CONNECTION = "data_version_connection"  # in a session's info: the connection its transaction runs on


def _bump() -> None:
    global _generation
    with _generation_lock:
        _generation += 1


def _changed(info: dict[Any, Any]) -> None:
    info[_CHANGED] = True
    _bump()


def _counts(instance: object) -> bool:
    name = getattr(instance, "__tablename__", None)
    if name == _AUDIT_TABLE:
        return getattr(instance, "action", None) not in UNRELATED_ACTIONS
    return name in READ_TABLES


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _flush: UOWTransaction) -> None:
    if any(_counts(instance) for instance in chain(session.new, session.dirty, session.deleted)):
        _changed(session.info)


@event.listens_for(Session, "do_orm_execute")
def _bulk_change(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete or state.is_insert) and any(
        getattr(mapper.local_table, "name", None) in READ_TABLES for mapper in state.all_mappers
    ):
        _changed(state.session.info)


@event.listens_for(Engine, "after_execute")
def _core_change(connection: Connection, statement: Any, *_args: Any) -> None:
    # A Core statement on a read table (the import's upsert, a plain insert): no ORM event sees it.
    if isinstance(statement, UpdateBase) and getattr(statement.table, "name", None) in READ_TABLES:
        _changed(connection.info)


@event.listens_for(Session, "after_begin")
def _after_begin(session: Session, _transaction: SessionTransaction, connection: Connection) -> None:
    session.info[_CONNECTION] = connection
    connection.info.pop(_CHANGED, None)  # left by a use outside a session, long ended: not this one's


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the outermost commit moves the version, once, for all of it
    if session.new or session.dirty or session.deleted:
        session.flush()  # what the commit would flush, so its changes are counted
    connection = session.info.get(_CONNECTION)
    if connection is None:
        return  # nothing was run: nothing changed
    if bool(session.info.get(_CHANGED)) | connection.info.pop(_CHANGED, False):
        session.execute(update(_stored).where(_stored.c.id == 1).values(version=_stored.c.version + 1))


# Both fire for a savepoint too; its outer transaction still has to be counted then.


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    if session.in_nested_transaction():
        _bump()  # the savepoint's rows are gone: their ids may be handed out anew
        return
    connection = session.info.pop(_CONNECTION, None)
    changed = connection is not None and connection.info.pop(_CHANGED, False)
    if session.info.pop(_CHANGED, False) | changed:
        _bump()  # the rows this session flushed are gone again; their ids may be handed out anew


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_CHANGED, None)
        session.info.pop(_CONNECTION, None)
