"""Request dependencies shared by pages and the API: the database session and who is calling."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from ecoops.accounts import signin
from ecoops.accounts.models import PartnerUser, User
from ecoops.accounts.service import actor_for_token, may_hold_tokens, partner_user_actor, user_actor
from ecoops.actors import Actor
from ecoops.config import Settings
from ecoops.db import READ_ONLY
from ecoops.permissions import Permission, allowed
from ecoops.web.retry import WRITE_FIRST

READ_METHODS = frozenset({"GET", "HEAD"})
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


WRITES_WHEN_READ = "_ecoops_writes_when_read"


def writes_when_read(endpoint: Endpoint) -> Endpoint:
    """Mark a GET route that always writes (a no-login form's one-time nonce): its transaction takes
    SQLite's write lock from the start, instead of reading, clashing with a writer and being retried."""
    setattr(endpoint, WRITES_WHEN_READ, True)
    return endpoint


def request_transaction(request: Request) -> Iterator[None]:
    """One transaction per request: committed when the handler returns, rolled back if it raises.

    create_app adds it to every router with scope="function", so the commit happens before the
    response is sent (FastAPI's default ends yield dependencies after): a browser following a
    redirect finds the change committed, and a failed commit never follows a success response.
    Reads (GET, HEAD) begin without SQLite's write lock; a read that must write after all and
    clashes is retried by web/retry.py, then with the lock from its start.
    """
    with request.app.state.sessions() as session:
        if (
            request.method in READ_METHODS
            and not getattr(request.state, WRITE_FIRST, False)
            and not getattr(request.scope.get("endpoint"), WRITES_WHEN_READ, False)
        ):
            session.connection(execution_options=READ_ONLY)
        request.state.db_session = session
        try:
            yield
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def reading_first(session: Session) -> Iterator[None]:
    """Run the block in a transaction of its own that only reads (on SQLite: without the write lock).

    For a request whose slow part (argon2) comes before its writes: the writes after the block begin
    a short transaction of their own, where what they depend on is read again (`session.refresh`).
    """
    session.connection(execution_options=READ_ONLY)
    yield
    session.commit()


# Dependencies that do no I/O are `async def`: FastAPI runs them on the event loop, where a plain `def`
# is handed to a worker thread and back, and under load each hand-off waits for the GIL twice.


async def db(request: Request) -> Session:
    """The request's database session (see `request_transaction`)."""
    session: Session = request.state.db_session
    return session


async def app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


class LoginRequired(Exception):
    """Raised for anonymous page requests; answered with a redirect to the login page."""


def session_actor(request: Request, session: Session) -> Actor | None:
    """The signed-in user of this browser session, if any and still active."""
    sid = request.session.get("sid")
    live = signin.find(session, str(sid)) if sid else None
    if live is None:
        return None
    if live.user_kind == signin.PARTNER_USER:
        partner_user = session.get(PartnerUser, live.user_id)
        if partner_user is None or not (partner_user.is_active and partner_user.can_sign_in):
            return None
        return partner_user_actor(partner_user)
    user = session.get(User, live.user_id)
    return user_actor(user) if user and user.is_active else None


def page_actor(request: Request, session: Session = Depends(db)) -> Actor:
    actor = session_actor(request, session)
    if actor is None:
        raise LoginRequired()
    request.state.actor = actor
    return actor


# Declared as a security scheme so the OpenAPI description (and Swagger's "Authorize") knows it.
bearer_token = HTTPBearer(
    auto_error=False, scheme_name="apiToken", description="An API token created on the API tokens page."
)


def api_actor(
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer_token), session: Session = Depends(db)
) -> Actor:
    """API calls authenticate with `Authorization: Bearer <token>` only (no cookies, so no CSRF).

    A partner user's token acts as that partner user: it holds no internal permission, so only the
    partner API (/api/v1/portal) answers it; every other route refuses it with 403.
    """
    actor = actor_for_token(session, credentials.credentials.strip()) if credentials else None
    if actor is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "a valid API token is required",
            headers={"WWW-Authenticate": "Bearer"},
        )
    # A token outlives role changes: a user whose role lost API access cannot keep using old tokens.
    if not may_hold_tokens(actor):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "your role may not use API tokens")
    return actor


def _permission_dependency(
    source: Callable[..., Actor], permission: Permission
) -> Callable[..., Awaitable[Actor]]:
    async def dependency(actor: Actor = Depends(source)) -> Actor:
        if not allowed(actor, permission):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"requires the {permission.value} permission")
        return actor

    return dependency


def page_permission(permission: Permission) -> Callable[..., Awaitable[Actor]]:
    """A page dependency: the signed-in actor, if it holds `permission` (else 403)."""
    return _permission_dependency(page_actor, permission)


def api_permission(permission: Permission) -> Callable[..., Awaitable[Actor]]:
    """An API dependency: the token's actor, if it holds `permission` (else 403)."""
    return _permission_dependency(api_actor, permission)
