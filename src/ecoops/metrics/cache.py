"""The dashboards' cache: engine inputs and finished figures, kept while the records they read are unchanged.

Every figure is a pure function of the stored records, the rules in force and the query, so a result can be
reused for as long as those records have not changed. A cache key therefore starts with the data version:

- `data_version` reads, in one statement, the row count and the highest id of every table the feed reads,
  plus the audit trail's highest id. A row added or removed anywhere moves a count or an id; a change in
  place goes through a service, which writes an audit event in the same transaction (a convention the
  tests enforce), so the audit id moves. Other processes (the worker, `ecoops import`) are seen this way.
  Events that never go with a change to these records (sign-ins, API tokens, passwords) do not count:
  people signing in all day would otherwise make every dashboard compute anew.
- the process's *generation*, bumped whenever a session of this process flushes, bulk-changes or rolls
  back such a table: a change in place within this process, or a rollback that lets ids be reused (as
  SQLite does), never leaves a stale entry behind even before anything is audited.

Entries live in bounded least-recently-used maps in this process; nothing is written anywhere. A missing
entry is computed by one request while the others that want it wait for it (on two cores, eight people
opening dashboards after a change would otherwise compute the same inputs eight times at once).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from itertools import chain
from typing import Any, Generic, TypeVar

from sqlalchemy import event, func, select
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from ecoops.attribution.models import MetricSettingsChange, PartnerTouch
from ecoops.audit import AuditEvent
from ecoops.crm.models import Account, Opportunity, OpportunityStageChange
from ecoops.mapping.models import OverlapPeriod
from ecoops.partners.models import Membership, Partner, PartnerStageChange, Program, Tier
from ecoops.referrals.models import Referral, ReferralStatusChange

# Every table the feed (feed.py), the rules in force and the names beside ids read.
READ_TABLES: tuple[type[Any], ...] = (
    Opportunity,
    OpportunityStageChange,
    PartnerTouch,
    Partner,
    PartnerStageChange,
    Membership,
    Program,
    Tier,
    Referral,
    ReferralStatusChange,
    OverlapPeriod,
    Account,
    MetricSettingsChange,
)

V = TypeVar("V")


class LRU(Generic[V]):
    """A thread-safe map that forgets its least recently used entry beyond `size` entries."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()
        self._flights: dict[Hashable, list[Any]] = {}  # key: [its lock, threads holding or awaiting it]

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            if key not in self._entries:
                return None
            self._entries.move_to_end(key)
            return self._entries[key]

    def put(self, key: Hashable, value: V) -> V:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value

    @contextmanager
    def computing(self, key: Hashable) -> Iterator[None]:
        """Held while `key`'s entry is computed: other threads computing the same key wait for it."""
        with self._lock:
            flight = self._flights.setdefault(key, [threading.Lock(), 0])
            flight[1] += 1
        try:
            with flight[0]:
                yield
        finally:
            with self._lock:
                flight[1] -= 1
                if not flight[1]:
                    del self._flights[key]

    def get_or_compute(self, key: Hashable, compute: Callable[[], V]) -> V:
        """The entry for `key`, computed if missing, once however many threads ask at the same time."""
        found = self.get(key)
        if found is not None:
            return found
        with self.computing(key):
            found = self.get(key)  # computed by the thread this one waited for
            return self.put(key, compute()) if found is None else found

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


# Inputs are the big entries (a large workspace's records); figures are small tables; records sit between.
INPUTS: LRU[Any] = LRU(2)
FIGURES: LRU[Any] = LRU(256)
RECORDS: LRU[Any] = LRU(16)

_generation = 0
_generation_lock = threading.Lock()


def _bump() -> None:
    global _generation
    with _generation_lock:
        _generation += 1


def generation() -> int:
    return _generation


# Audit actions never written with a change to the READ_TABLES (see the module's docstring).
UNRELATED_ACTIONS = (
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
)


def data_version(session: Session) -> tuple[int, ...]:
    """This process's generation, the count and highest id of each read table, the latest audit event."""
    columns = []
    for model in READ_TABLES:
        columns.append(select(func.count()).select_from(model).scalar_subquery())
        columns.append(select(func.coalesce(func.max(model.id), 0)).scalar_subquery())
    # Newest first and the first that counts: a walk back from the end of the id index, not a scan.
    audit = select(AuditEvent.id).where(AuditEvent.action.not_in(UNRELATED_ACTIONS))
    columns.append(audit.order_by(AuditEvent.id.desc()).limit(1).scalar_subquery())
    return (generation(), *session.execute(select(*columns)).one())


_CHANGED = "metrics_cache_changed"


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _flush: UOWTransaction) -> None:
    changed = chain(session.new, session.dirty, session.deleted)
    if any(isinstance(instance, READ_TABLES) for instance in changed):
        session.info[_CHANGED] = True
        _bump()


@event.listens_for(Session, "do_orm_execute")
def _bulk_change(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete or state.is_insert) and any(
        mapper.class_ in READ_TABLES for mapper in state.all_mappers
    ):
        state.session.info[_CHANGED] = True
        _bump()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    # The rows this session flushed are gone again; their ids may be handed out anew.
    if session.info.pop(_CHANGED, False):
        _bump()


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    session.info.pop(_CHANGED, None)
