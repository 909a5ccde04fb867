"""A thread-safe least-recently-used map whose missing entries one caller computes while the others wait:
the dashboards' cache (metrics/cache.py) and the referrals' remembered company keys keep their entries in it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

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

    def is_computing(self, matches: Callable[[Hashable], bool]) -> bool:
        """Whether an entry whose key `matches` is being computed."""
        with self._lock:
            return any(matches(key) for key in self._flights)

    def newest(self, matches: Callable[[Hashable], bool]) -> tuple[Hashable, V] | None:
        """The most recently used entry whose key `matches`."""
        with self._lock:
            for key in reversed(self._entries):
                if matches(key):
                    return key, self._entries[key]
        return None

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
