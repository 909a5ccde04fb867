"""Domain events: what changed, written in the same transaction as the change (a transactional outbox).

A domain calls `emit(...)` beside its own writes; the automation worker reads events that have not
been dispatched yet, so an event exists exactly when the change it describes was committed.
"""

from ecoops.events.models import Event, EventKind
from ecoops.events.outbox import emit, emit_many, undispatched

__all__ = ["Event", "EventKind", "emit", "emit_many", "undispatched"]
