"""At most so many requests at once hold a database connection; the others wait their turn here.

Every request holds a connection from its start to its end (deps.request_transaction), and the
engine's pool has `db_pool_size + db_max_overflow` of them. Without a bound, a burst of requests (fifty
people signing in: argon2 keeps each sign-in long) took every connection, and the next requests
waited for one in a thread until the pool's timeout answered them with a 500. Waiting here instead
costs no thread and no connection, and every request is answered, later.
"""

from __future__ import annotations

import asyncio
from weakref import WeakKeyDictionary

from starlette.types import ASGIApp, Receive, Scope, Send

from ecoops.config import Settings

# Connections used outside requests in a web process: the dashboards' warming thread and the
# in-process worker's job and tick threads.
RESERVED = 4


def request_slots(settings: Settings) -> int:
    return max(1, settings.db_pool_size + settings.db_max_overflow - RESERVED)


class DatabaseSlots:
    def __init__(self, app: ASGIApp, slots: int) -> None:
        self.app = app
        self.slots = slots
        # One per event loop: a semaphore belongs to the loop it first waited in (tests run several).
        self._semaphores: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            WeakKeyDictionary()
        )

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        semaphore = self._semaphores.get(loop)
        if semaphore is None:
            semaphore = self._semaphores[loop] = asyncio.Semaphore(self.slots)
        return semaphore

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return
        async with self._semaphore():
            await self.app(scope, receive, send)
