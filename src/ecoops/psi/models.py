"""Tables of private mapping: a connection to the partner's own ecoops, and each exchange run over it.

A connection starts as an invitation (only the hash of its one-time code is kept), becomes active
when the partner redeems the code, and ends revoked by either side. Each side issues the other a
bearer token for its /psi/v1 endpoints and keeps only that token's hash; the token it was issued
for calling the peer is kept as is, because it must be sent.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ecoops.audit import utcnow
from ecoops.db import Base


class ConnectionState(StrEnum):
    INVITED = "invited"  # our code is out; nobody has redeemed it yet
    ACTIVE = "active"
    REVOKED = "revoked"  # by us or by the peer (`revoked_by` says which)


class ExchangeStatus(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class PsiConnection(Base):
    """One of our partners ↔ the partner's own ecoops instance."""

    __tablename__ = "psi_connections"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(20), default=ConnectionState.INVITED.value)
    peer_url: Mapped[str] = mapped_column(String(500), default="")
    invite_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    invite_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The peer calls us with a token whose SHA-256 this is; we call the peer with `outbound_token`.
    inbound_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    outbound_token: Mapped[str] = mapped_column(String(100), default="")
    # Keys the pseudonymous ids our released records carry (stable per connection, never our CRM ids).
    ref_key: Mapped[str] = mapped_column(String(64))
    interval_hours: Mapped[int] = mapped_column(Integer, default=24)  # 0: only when run by hand
    next_exchange_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[str] = mapped_column(String(200), default="")


class PsiExchange(Base):
    """One run of the protocol over a connection, in one mode, as initiator or responder."""

    __tablename__ = "psi_exchanges"

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(
        ForeignKey("psi_connections.id", ondelete="CASCADE"), index=True
    )
    # Unique: a session id seen once is never accepted again (replays are refused).
    session_id: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))  # initiator | responder
    mode: Mapped[str] = mapped_column(String(10))  # count | reveal
    status: Mapped[str] = mapped_column(String(20), default=ExchangeStatus.RUNNING.value)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    our_items: Mapped[int] = mapped_column(Integer, default=0)
    matches: Mapped[int] = mapped_column(Integer, default=0)
    bytes_sent: Mapped[int] = mapped_column(Integer, default=0)
    bytes_received: Mapped[int] = mapped_column(Integer, default=0)
    # Count mode: [[our population key, their population label, accounts], …].
    counts: Mapped[list[Any]] = mapped_column(JSON, default=list)
    upload_id: Mapped[int | None] = mapped_column(ForeignKey("partner_uploads.id", ondelete="SET NULL"))
    error: Mapped[str] = mapped_column(Text, default="")


class PsiPartyState(Base):
    """A responder's Party between message 1 and message 3, so whichever web process receives message 3
    can answer it. Deleted by the process that takes it (or once expired); it holds the exchange's secret,
    which is worth nothing once the exchange is over and never leaves this database."""

    __tablename__ = "psi_party_states"

    exchange_id: Mapped[int] = mapped_column(
        ForeignKey("psi_exchanges.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[bytes] = mapped_column(LargeBinary)  # Party.save_state()
    population_keys: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
