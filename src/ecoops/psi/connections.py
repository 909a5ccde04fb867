"""Connections to partners' own ecoops instances: invitation, redemption, revocation, and the
credential check of every request a peer makes.

Set-up (both sides opt in): side A creates an invitation for one of its partners and gets a one-time
code, shown once, that carries A's URL and a secret (A keeps only the secret's hash; the code
expires). Someone at the partner enters the code on their own instance B, choosing which of *its*
partners A is. B then calls A over https with the secret, its own URL and a token it issued for A;
A answers with a token it issued for B. Each side keeps the hash of the token it issued and the
token it was given. Either side can revoke; the other learns it at once or on its next request.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor, ActorKind, Role
from ecoops.audit import utcnow
from ecoops.config import Settings
from ecoops.mapping.overlaps import partner_or_404
from ecoops.permissions import Permission, require
from ecoops.psi import transport
from ecoops.psi.models import ConnectionState, PsiConnection

CODE_PREFIX = "ecoops-psi1"


class PeerUnauthorized(Exception):
    """A request to /psi/v1 without a valid credential (401)."""


class ConnectionRevoked(Exception):
    """A request over a connection that was revoked (403, and the peer is told it is revoked)."""


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def peer_actor(connection: PsiConnection) -> Actor:
    """Who acts when the peer's server calls us: audited under the peer's URL."""
    return Actor(kind=ActorKind.SYSTEM, id=None, label=f"peer {connection.peer_url}"[:200], role=Role.ADMIN)


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes for UTC columns."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def current_connection(session: Session, partner_id: int) -> PsiConnection | None:
    """The partner's newest connection (an invitation, an active or a revoked one), if any."""
    return session.scalar(
        select(PsiConnection)
        .where(PsiConnection.partner_id == partner_id)
        .order_by(PsiConnection.id.desc())
        .limit(1)
    )


def make_code(url: str, secret: str) -> str:
    encoded = base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")
    return f"{CODE_PREFIX}.{encoded}.{secret}"


def parse_code(code: str) -> tuple[str, str]:
    """(the inviting server's URL, the secret) from an invitation code; InvalidInput if it is not one."""
    parts = "".join(code.split()).split(".")
    if len(parts) != 3 or parts[0] != CODE_PREFIX or len(parts[2]) < 32:
        raise InvalidInput(f"not an invitation code: it starts with {CODE_PREFIX}. and has three parts")
    try:
        url = base64.b64decode(parts[1] + "=" * (-len(parts[1]) % 4), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidInput("not an invitation code: the address part is damaged") from None
    return url, parts[2]


def create_invitation(
    session: Session, actor: Actor, settings: Settings, partner_id: int, *, interval_hours: int = 24
) -> tuple[PsiConnection, str]:
    """A new invitation for the partner and its one-time code (shown once, stored only as a hash)."""
    require(actor, Permission.MANAGE_MAPPING)
    partner_or_404(session, partner_id)
    if not settings.public_url:
        raise InvalidInput("set ECOOPS_PUBLIC_URL (how the partner's server reaches this one) first")
    own_url = transport.check_peer_url(settings.public_url, settings)
    _check_interval(interval_hours)
    current = current_connection(session, partner_id)
    if current is not None and current.state == ConnectionState.ACTIVE:
        raise InvalidInput("this partner already has an active connection; revoke it first")
    if current is not None and current.state == ConnectionState.INVITED:
        _end(current, actor.label)  # a new code replaces an unused one
    secret = secrets.token_urlsafe(32)
    connection = PsiConnection(
        partner_id=partner_id,
        state=ConnectionState.INVITED.value,
        invite_hash=digest(secret),
        invite_expires_at=utcnow() + timedelta(hours=settings.psi_invitation_hours),
        ref_key=secrets.token_hex(32),
        interval_hours=interval_hours,
        created_by=actor.label,
        created_at=utcnow(),
    )
    session.add(connection)
    session.flush()
    audit.record(
        session,
        actor,
        "psi.invitation_created",
        "partner",
        partner_id,
        connection_id=connection.id,
        expires_at=connection.invite_expires_at.isoformat() if connection.invite_expires_at else None,
    )
    return connection, make_code(own_url, secret)


def redeem(
    session: Session,
    actor: Actor,
    settings: Settings,
    partner_id: int,
    code: str,
    *,
    interval_hours: int = 24,
) -> PsiConnection:
    """Enter a partner's invitation code: call the partner's server, swap tokens, and become active."""
    require(actor, Permission.MANAGE_MAPPING)
    partner_or_404(session, partner_id)
    if not settings.public_url:
        raise InvalidInput("set ECOOPS_PUBLIC_URL (how the partner's server reaches this one) first")
    own_url = transport.check_peer_url(settings.public_url, settings)
    _check_interval(interval_hours)
    peer_url, secret = parse_code(code)
    peer_url = transport.check_peer_url(peer_url, settings)
    current = current_connection(session, partner_id)
    if current is not None and current.state == ConnectionState.ACTIVE:
        raise InvalidInput("this partner already has an active connection; revoke it first")
    issued = secrets.token_urlsafe(32)
    try:
        answer = transport.post(
            settings, peer_url, "/psi/v1/connect", json={"secret": secret, "url": own_url, "token": issued}
        )
        given = str(answer.json()["token"])
    except (transport.PeerError, ValueError, KeyError) as exc:
        raise InvalidInput(f"the invitation could not be redeemed: {exc}") from None
    if current is not None and current.state == ConnectionState.INVITED:
        _end(current, actor.label)
    now = utcnow()
    connection = PsiConnection(
        partner_id=partner_id,
        state=ConnectionState.ACTIVE.value,
        peer_url=peer_url,
        inbound_token_hash=digest(issued),
        outbound_token=given,
        ref_key=secrets.token_hex(32),
        interval_hours=interval_hours,
        next_exchange_at=now + timedelta(hours=interval_hours) if interval_hours else None,
        created_by=actor.label,
        created_at=now,
        activated_at=now,
    )
    session.add(connection)
    session.flush()
    audit.record(
        session,
        actor,
        "psi.invitation_redeemed",
        "partner",
        partner_id,
        connection_id=connection.id,
        peer=peer_url,
    )
    return connection


def accept(session: Session, settings: Settings, secret: str, peer_url: str, peer_token: str) -> str:
    """The peer redeems our invitation: activate it and return the token we issue for the peer."""
    connection = session.scalar(
        select(PsiConnection).where(
            PsiConnection.invite_hash == digest(secret), PsiConnection.state == ConnectionState.INVITED
        )
    )
    if connection is None or connection.invite_expires_at is None:
        raise PeerUnauthorized("no such invitation (already used, replaced or revoked?)")
    if aware(connection.invite_expires_at) <= utcnow():
        raise PeerUnauthorized("the invitation has expired; ask for a new code")
    try:
        peer_url = transport.check_peer_url(peer_url, settings)
    except InvalidInput as exc:
        raise PeerUnauthorized(str(exc)) from None
    if not 32 <= len(peer_token) <= 100:
        raise PeerUnauthorized("the token offered has the wrong length")
    issued = secrets.token_urlsafe(32)
    now = utcnow()
    connection.state = ConnectionState.ACTIVE.value
    connection.invite_hash = None
    connection.peer_url = peer_url
    connection.inbound_token_hash = digest(issued)
    connection.outbound_token = peer_token
    connection.activated_at = now
    connection.next_exchange_at = (
        now + timedelta(hours=connection.interval_hours) if connection.interval_hours else None
    )
    session.flush()
    audit.record(
        session,
        peer_actor(connection),
        "psi.connection_accepted",
        "partner",
        connection.partner_id,
        connection_id=connection.id,
        peer=peer_url,
    )
    return issued


def authenticate(session: Session, authorization: str | None) -> PsiConnection:
    """The connection a peer's `Authorization: Bearer …` belongs to; refused if unknown or revoked."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise PeerUnauthorized("a connection token is required (Authorization: Bearer …)")
    connection = session.scalar(
        select(PsiConnection).where(PsiConnection.inbound_token_hash == digest(token.strip()))
    )
    if connection is None:
        raise PeerUnauthorized("unknown connection token")
    # Compare again in constant time: the lookup above is by hash, this guards the equality itself.
    if not hmac.compare_digest(connection.inbound_token_hash or "", digest(token.strip())):
        raise PeerUnauthorized("unknown connection token")
    if connection.state != ConnectionState.ACTIVE:
        raise ConnectionRevoked("this connection was revoked")
    return connection


def revoke(session: Session, actor: Actor, settings: Settings, partner_id: int) -> str:
    """Revoke the partner's connection (or unused invitation) and tell the peer; a message for the user."""
    require(actor, Permission.MANAGE_MAPPING)
    partner_or_404(session, partner_id)
    connection = current_connection(session, partner_id)
    if connection is None or connection.state == ConnectionState.REVOKED:
        raise InvalidInput("no connection or invitation to revoke")
    was_active, token = connection.state == ConnectionState.ACTIVE, connection.outbound_token
    _end(connection, actor.label)
    session.flush()
    audit.record(session, actor, "psi.connection_revoked", "partner", partner_id, connection_id=connection.id)
    if not was_active:
        return "invitation withdrawn: its code no longer works"
    try:
        transport.post(settings, connection.peer_url, "/psi/v1/revoke", token=token)
    except transport.PeerError as exc:
        return (
            f"connection revoked; the partner's server was not told now ({exc}) and will be refused next time"
        )
    return "connection revoked; the partner's server has been told"


def revoked_by_peer(session: Session, connection: PsiConnection) -> None:
    """The peer revoked the connection (it told us, or refused us saying so)."""
    if connection.state == ConnectionState.REVOKED:
        return
    _end(connection, f"peer {connection.peer_url}")
    session.flush()
    audit.record(
        session,
        peer_actor(connection),
        "psi.connection_revoked_by_peer",
        "partner",
        connection.partner_id,
        connection_id=connection.id,
    )


def set_interval(session: Session, actor: Actor, partner_id: int, interval_hours: int) -> PsiConnection:
    """How often the exchange runs by itself (0: only when run by hand)."""
    require(actor, Permission.MANAGE_MAPPING)
    partner_or_404(session, partner_id)
    _check_interval(interval_hours)
    connection = current_connection(session, partner_id)
    if connection is None or connection.state == ConnectionState.REVOKED:
        raise InvalidInput("no connection to schedule")
    connection.interval_hours = interval_hours
    connection.next_exchange_at = utcnow() + timedelta(hours=interval_hours) if interval_hours else None
    session.flush()
    audit.record(session, actor, "psi.schedule_changed", "partner", partner_id, interval_hours=interval_hours)
    return connection


def _check_interval(hours: int) -> None:
    if not 0 <= hours <= 24 * 90:
        raise InvalidInput("the interval is a number of hours from 0 (by hand only) to 2160 (90 days)")


def _end(connection: PsiConnection, by: str) -> None:
    connection.state = ConnectionState.REVOKED.value
    connection.invite_hash = None
    connection.outbound_token = ""
    connection.next_exchange_at = None
    connection.revoked_at = utcnow()
    connection.revoked_by = by[:200]
