"""Browser-facing protections: CSRF tokens on every unsafe page request, and security headers."""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from fastapi import HTTPException, Request, status
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def safe_path(target: str) -> str:
    """`target` if it is a path on this site, else "/": redirects taken from forms never leave the site."""
    same_site = target.startswith("/") and not target.startswith("//") and "\\" not in target
    return target if same_site else "/"


def csrf_token(request: Request) -> str:
    """This session's CSRF token, created on first use."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


def _from_elsewhere(request: Request) -> bool:
    """Whether the browser says the request comes from a page of another site (Origin, else Referer).

    Neither header is a reason to refuse (some privacy settings drop both); the token still decides.
    """
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source:
        return False
    host = request.headers.get("host", "").lower()
    return source == "null" or urlsplit(source).netloc.lower() != host


async def csrf_protect(request: Request) -> None:
    """Router dependency for pages: unsafe requests must come from our own pages and echo the session's
    token (form or header)."""
    if request.method not in UNSAFE_METHODS:
        return
    if _from_elsewhere(request):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this form was sent from another site")
    expected = request.session.get("csrf")
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not expected or not sent or not hmac.compare_digest(str(expected), sent):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or wrong CSRF token; reload the page")


CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)


class SecurityHeaders:
    """ASGI middleware adding the headers every response should carry."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.headers = [
            (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"same-origin"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]
        if hsts:
            self.headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        # Pages and API answers hold what only the signed-in may see: no cache may keep them.
        # Static files may be cached (they carry no one's data).
        store = [] if scope["path"].startswith("/static/") else [(b"cache-control", b"no-store")]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                named = {name.lower() for name, _ in headers}
                message["headers"] = headers + self.headers + [h for h in store if h[0] not in named]
            await send(message)

        await self.app(scope, receive, send_with_headers)
