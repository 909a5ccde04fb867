"""A cap on the size of API request bodies, so a huge JSON document is refused before anything parses it.

Multipart uploads (CSV imports) have their own, larger cap (crm/imports/uploads.py: UploadLimit).
"""

from __future__ import annotations

from fastapi import HTTPException, status
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_API_BODY = 1 << 20  # 1 MiB: far above any JSON body the API takes


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        message = f"request body larger than {limit} bytes, the most the API takes"
        super().__init__(status.HTTP_413_CONTENT_TOO_LARGE, message)


class ApiBodyLimit:
    """Refuses an /api/ body whose declared Content-Length is over the cap before reading any of it, and
    one sent without a length (chunked) as soon as the bytes received pass the cap.

    The refusal is raised from the body stream: FastAPI lets an HTTPException through its body parsing,
    so the app's error handler answers it, as JSON like every API error.
    """

    def __init__(self, app: ASGIApp, limit: int = MAX_API_BODY) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope) if scope["type"] == "http" else Headers()
        if not scope.get("path", "").startswith("/api/") or headers.get("content-type", "").startswith(
            "multipart/form-data"
        ):
            await self.app(scope, receive, send)
            return
        declared = headers.get("content-length", "")
        received = 0

        async def limited() -> Message:
            nonlocal received
            if declared.isdigit() and int(declared) > self.limit:
                raise BodyTooLarge(self.limit)
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise BodyTooLarge(self.limit)
            return message

        await self.app(scope, limited, send)
