"""/psi/v1: what one ecoops server calls on another. Authenticated by the connection's bearer token
(or, for /connect, the invitation's secret), never by a browser session, so there is no CSRF token
to ask for: these routes are not on a page router. Refusals are JSON `{"detail": …}`.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from ecoops.config import Settings
from ecoops.db import READ_ONLY
from ecoops.engines.psi import PsiError
from ecoops.psi import connections, exchange
from ecoops.psi.models import PsiConnection
from ecoops.psi.transport import REVOKED_HEADER
from ecoops.web.deps import app_settings, db

router = APIRouter(prefix="/psi/v1")
# Beyond the elements themselves (32 bytes, or 8-byte tags back) a released record's ciphertext.
BYTES_PER_ITEM = 600


class ConnectRequest(BaseModel):
    secret: str
    url: str
    token: str


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, message, headers={"WWW-Authenticate": "Bearer"})


def peer_connection(request: Request, session: Session = Depends(db)) -> PsiConnection:
    """The connection whose token the caller presents; 401 without one, 403 once revoked."""
    # The exchange steps write in transactions of their own: this one only reads (no SQLite write lock).
    session.connection(execution_options=READ_ONLY)
    try:
        return connections.authenticate(session, request.headers.get("authorization"))
    except connections.PeerUnauthorized as exc:
        raise _unauthorized(str(exc)) from None
    except connections.ConnectionRevoked as exc:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, str(exc), headers={REVOKED_HEADER: "revoked"}
        ) from None


async def message_body(request: Request, settings: Settings = Depends(app_settings)) -> bytes:
    """The request's bytes, refused (413) beyond what the largest allowed list can need."""
    limit = settings.psi_max_items * BYTES_PER_ITEM + (1 << 20)
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"message larger than {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"message larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _refusal(exc: Exception) -> JSONResponse:
    """A refused message: `{"detail": …}` with the status the refusal calls for (400 for a bad message)."""
    if isinstance(exc, exchange.ExchangeRefused):
        return JSONResponse({"detail": str(exc)}, status_code=exc.status)
    return JSONResponse({"detail": f"{type(exc).__name__}: {exc}"}, status_code=400)


async def connect_request(request: Request) -> ConnectRequest | None:
    """The body of /connect, or None if it is not one (answered 401 like a wrong secret)."""
    try:
        return ConnectRequest.model_validate_json(await request.body())
    except ValidationError:
        return None


@router.post("/connect")
def connect(
    body: ConnectRequest | None = Depends(connect_request),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> dict[str, str]:
    """The partner redeems our invitation: its secret, URL and token in, our token for it out."""
    if body is None:
        raise _unauthorized("an invitation secret, the caller's URL and a token are required")
    try:
        return {"token": connections.accept(session, settings, body.secret, body.url, body.token)}
    except connections.PeerUnauthorized as exc:
        raise _unauthorized(str(exc)) from None


def _answer(respond: Callable[[], bytes]) -> Response:
    """Our next message's bytes, or the refusal of the peer's bad one."""
    try:
        return Response(respond(), media_type="application/octet-stream")
    except (exchange.ExchangeRefused, PsiError) as exc:
        return _refusal(exc)


@router.post("/exchange/start")
def start(
    request: Request,
    connection: PsiConnection = Depends(peer_connection),
    body: bytes = Depends(message_body),
    settings: Settings = Depends(app_settings),
) -> Response:
    """Message 1 of an exchange the peer runs; answered with message 2."""
    return _answer(
        lambda: exchange.respond_start(
            request.app.state.sessions,
            settings,
            connection.id,
            request.headers.get(exchange.SESSION_HEADER),
            request.headers.get(exchange.MODE_HEADER),
            body,
        )
    )


@router.post("/exchange/finish")
def finish(
    request: Request,
    connection: PsiConnection = Depends(peer_connection),
    body: bytes = Depends(message_body),
    settings: Settings = Depends(app_settings),
) -> Response:
    """Message 3 of an exchange the peer runs; answered with message 4 once our result is stored."""
    return _answer(
        lambda: exchange.respond_finish(
            request.app.state.sessions,
            settings,
            connection.id,
            request.headers.get(exchange.SESSION_HEADER),
            body,
        )
    )


@router.post("/revoke")
def revoke(
    connection: PsiConnection = Depends(peer_connection), session: Session = Depends(db)
) -> dict[str, str]:
    """The peer revoked the connection: so do we."""
    connections.revoked_by_peer(session, connection)
    return {"state": "revoked"}
