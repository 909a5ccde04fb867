"""Blank query values on pages count as absent.

An HTML form sends every field it holds: a select left on "all", an empty date or search box arrive as
`partner=&as_of=`. On a page that means "no filter", so such pairs are dropped before any route reads
the query, and every filter form gets its defaults without each route special-casing "". The JSON API
(`/api/`, `/psi/`) keeps its query as sent: its clients write their URLs themselves.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

API_PREFIXES = ("/api/", "/psi/")


def without_blanks(query: bytes) -> bytes:
    """`a=&b=1&c&d=2` → `b=1&d=2`; filled pairs keep their exact encoding and order."""
    return b"&".join(pair for pair in query.split(b"&") if pair.partition(b"=")[2])


class BlankQueryValues:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["query_string"] and not scope["path"].startswith(API_PREFIXES):
            scope = dict(scope, query_string=without_blanks(scope["query_string"]))
        await self.app(scope, receive, send)
