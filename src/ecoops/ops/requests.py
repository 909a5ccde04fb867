"""Every request gets an id, one access-log line and one latency observation.

The id is the caller's `X-Request-ID` when it is a plain token (a proxy's), else a new one; it is sent
back in the response header and carried by every log line of the request (ops/logs.py). The latency
histogram is labelled by route template (`/partners/{partner_id}`), never by raw path, so the number
of series stays bounded whatever paths clients send.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ecoops.ops.logs import request_id
from ecoops.ops.metrics import REQUEST_SECONDS

log = logging.getLogger("ecoops.access")

HEADER = b"x-request-id"
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")  # anything else could forge log lines or bloat them
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"  # the route label of a request no route answered (404s of any path)
QUIET = frozenset({"/healthz", "/readyz", "/metrics"})  # polled every few seconds: logged only when failing


def route_template(scope: Scope) -> str:
    """The template of the route that answered (the router sets it on the scope): `/partners/{partner_id}`."""
    return getattr(scope.get("route"), "path", None) or UNMATCHED


def _incoming_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == HEADER:
            text = value.decode("latin-1")
            return text if _SANE_ID.fullmatch(text) else None
    return None


class RequestObserver:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _incoming_id(scope) or uuid.uuid4().hex
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500  # unless a response starts: an exception escaping the app becomes a 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (HEADER, rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except BaseException:
            # The id stays set: the server logs the traceback next, in this request's own task, with it.
            self._record(scope, status, time.perf_counter() - started)
            raise
        self._record(scope, status, time.perf_counter() - started)
        request_id.reset(token)

    @staticmethod
    def _record(scope: Scope, status: int, seconds: float) -> None:
        route, method = route_template(scope), scope["method"]
        method = method if method in METHODS else "other"
        REQUEST_SECONDS.labels(method=method, route=route, status=str(status)).observe(seconds)
        if route in QUIET and status < 400:
            return
        log.info(
            "%s %s %d %.1f ms",
            method,
            scope["path"],
            status,
            seconds * 1000,
            extra={
                "method": method,
                "path": scope["path"],
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 1),
            },
        )
