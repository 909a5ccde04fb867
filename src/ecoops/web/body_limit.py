"""Caps on request bodies, applied while the bytes arrive, so nothing larger is read, spooled or parsed.

A multipart body (a CSV or partner-list upload, on a page or the API) may hold `import_max_upload_bytes`
and the form's framing; any other /api/ body (JSON) 1 MiB, far above what the API takes. A body over
its cap is refused at once when its Content-Length says so, else (chunked) as soon as the bytes
received pass the cap. The refusal is raised from the body stream, inside the app: FastAPI lets an
HTTPException through its body parsing, so the app's error handlers answer it (a page, or JSON).
"""

from __future__ import annotations

from fastapi import HTTPException, status
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_API_BODY = 1 << 20
FORM_SLACK = 64 << 10  # room for the multipart framing and the form's other fields


class BodyTooLarge(HTTPException):
    def __init__(self, message: str) -> None:
        super().__init__(status.HTTP_413_CONTENT_TOO_LARGE, message)


def _upload_refusal(limit: int) -> str:
    return (
        f"The upload is larger than {limit:,} bytes ({limit / (1 << 20):,.1f} MiB), the most the web "
        "takes (ECOOPS_IMPORT_MAX_UPLOAD_BYTES); import a larger file with `ecoops import`."
    )


class BodyLimit:
    def __init__(self, app: ASGIApp, upload_limit: int) -> None:
        self.app = app
        self.upload_limit = upload_limit

    def _cap(self, scope: Scope) -> tuple[int, str] | None:
        """The most bytes this request may send, and the refusal beyond them; None: not capped here."""
        if scope["type"] != "http":
            return None
        if Headers(scope=scope).get("content-type", "").startswith("multipart/form-data"):
            return self.upload_limit + FORM_SLACK, _upload_refusal(self.upload_limit)
        if scope.get("path", "").startswith("/api/"):
            return MAX_API_BODY, f"request body larger than {MAX_API_BODY} bytes, the most the API takes"
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        cap = self._cap(scope)
        if cap is None:
            await self.app(scope, receive, send)
            return
        limit, refusal = cap
        declared = Headers(scope=scope).get("content-length", "")
        received = 0

        async def limited() -> Message:
            nonlocal received
            if declared.isdigit() and int(declared) > limit:  # refused before any of it is read
                raise BodyTooLarge(refusal)
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge(refusal)
            return message

        await self.app(scope, limited, send)
