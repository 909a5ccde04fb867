"""Signed-in browser sessions kept on the server, and the sign-in throttle shared by every process.

The session cookie (signed by Starlette's SessionMiddleware) carries a random session id; the
database holds the id's SHA-256 with who it belongs to and when it ends. Signing out deletes the row,
and a password change deletes all of that person's rows, so a copied cookie stops working at once.
The throttle counts failures in the database, per e-mail and per client address, so it holds across
web processes and against one address trying many e-mails.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ecoops.accounts.models import PartnerUser, SignInFailure, User, WebSession
from ecoops.audit import utcnow

USER, PARTNER_USER = "user", "partner_user"
THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_EMAIL = 5
# An office behind one address may hold many people: a wider allowance than per e-mail.
MAX_FAILURES_PER_ADDRESS = 30


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _kind(user: User | PartnerUser) -> str:
    return PARTNER_USER if isinstance(user, PartnerUser) else USER


def start(session: Session, user: User | PartnerUser, lifetime: timedelta) -> str:
    """A new session for `user`; returns its id (for the cookie), which is not stored itself."""
    now = utcnow()
    session.execute(delete(WebSession).where(WebSession.expires_at < now))  # indexed: cheap
    session_id = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            id_hash=_digest(session_id),
            user_kind=_kind(user),
            user_id=user.id,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return session_id


def find(session: Session, session_id: str) -> WebSession | None:
    """The live session with this id, or None (unknown, ended or expired)."""
    row = session.get(WebSession, _digest(session_id))
    if row is None:
        return None
    now = utcnow()
    return row if row.expires_at.replace(tzinfo=now.tzinfo) > now else None


def end(session: Session, session_id: str) -> None:
    session.execute(delete(WebSession).where(WebSession.id_hash == _digest(session_id)))


def end_all(session: Session, user: User | PartnerUser, *, keep: str | None = None) -> None:
    """End every session of `user` (after a password change), except `keep` (the one that changed it)."""
    query = delete(WebSession).where(WebSession.user_kind == _kind(user), WebSession.user_id == user.id)
    if keep is not None:
        query = query.where(WebSession.id_hash != _digest(keep))
    session.execute(query)


def _keys(email: str, address: str) -> tuple[str, str]:
    return f"email:{email.strip().lower()}", f"ip:{address}"


def throttled(session: Session, email: str, address: str) -> bool:
    """Whether sign-ins for this e-mail, or from this address, have failed too often lately."""
    by_email, by_address = _keys(email, address)
    since = utcnow() - THROTTLE_WINDOW
    counts = dict(
        session.execute(
            select(SignInFailure.key, func.count())
            .where(SignInFailure.key.in_([by_email, by_address]), SignInFailure.at > since)
            .group_by(SignInFailure.key)
        ).all()
    )
    return counts.get(by_email, 0) >= MAX_FAILURES_PER_EMAIL or counts.get(by_address, 0) >= (
        MAX_FAILURES_PER_ADDRESS
    )


def record_failure(session: Session, email: str, address: str, now: datetime | None = None) -> None:
    now = now or utcnow()
    keys = _keys(email, address)
    # Old failures count for nothing: drop them as new ones come, so the table stays small.
    session.execute(
        delete(SignInFailure).where(SignInFailure.key.in_(keys), SignInFailure.at <= now - THROTTLE_WINDOW)
    )
    session.add_all(SignInFailure(key=key, at=now) for key in keys)


def clear_failures(session: Session, email: str) -> None:
    """A successful sign-in forgives the e-mail's failures (not the address's)."""
    session.execute(delete(SignInFailure).where(SignInFailure.key == _keys(email, "")[0]))
