"""Retry a request that lost a clash between writers, instead of answering 500.

A web request is one transaction (web/deps.py). When it fails on a transient write conflict
(`db.is_write_conflict`) before any response went out, the whole request runs again with its body
replayed: nothing of the failed attempt was committed, and events go out through the outbox only
when committed. A retried request takes the SQLite write lock from its start (`WRITE_FIRST`), so a
GET that had to write waits its turn rather than clashing again. Bodies larger than `MAX_REPLAY_BYTES`
(uploads) are passed through once, with no more than that held in memory, whether or not a header
announced their size.
"""

from __future__ import annotations

import asyncio
import logging
import random

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ecoops.db import is_write_conflict

log = logging.getLogger("ecoops.web")

ATTEMPTS = 4
MAX_REPLAY_BYTES = 1 << 20
WRITE_FIRST = "ecoops.write_first"  # scope["state"] key read by web.deps.request_transaction


class RetryWriteConflicts:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _replayable(scope):
            await self.app(scope, receive, send)
            return
        body, rest = await _read_body(receive)
        if body is None:  # the client went away before sending its request
            return
        if rest is not None:  # longer than its headers let us expect: passed through once
            await self.app(scope, rest, send)
            return
        for attempt in range(1, ATTEMPTS + 1):
            started, replayed = False, False

            async def replay() -> Message:
                nonlocal replayed
                if replayed:  # later calls wait for the disconnect, as the server's own receive does
                    return await receive()
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}

            async def watch(message: Message) -> None:
                nonlocal started
                started = started or message["type"] == "http.response.start"
                await send(message)

            try:
                await self.app(scope, replay, watch)
                return
            except Exception as exc:
                if started or attempt == ATTEMPTS or not is_write_conflict(exc):
                    raise
                log.warning(
                    "write conflict on %s %s, attempt %d: retrying", scope["method"], scope["path"], attempt
                )
                scope.setdefault("state", {})[WRITE_FIRST] = True
                await asyncio.sleep(random.uniform(0.01, 0.05) * attempt)


def _replayable(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return value.isdigit() and int(value) <= MAX_REPLAY_BYTES
        if name == b"transfer-encoding":
            return False
    return True


async def _read_body(receive: Receive) -> tuple[bytes | None, Receive | None]:
    """The whole body (None if the client left), or, past MAX_REPLAY_BYTES, a receive that gives what
    was read and then the rest, for one attempt."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None, None
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        more = message.get("more_body", False)
        if size > MAX_REPLAY_BYTES:
            return b"", _prefixed(b"".join(chunks), more, receive)
        if not more:
            return b"".join(chunks), None


def _prefixed(start: bytes, more: bool, receive: Receive) -> Receive:
    given = False

    async def rest() -> Message:
        nonlocal given
        if given:
            return await receive()
        given = True
        return {"type": "http.request", "body": start, "more_body": more}

    return rest
