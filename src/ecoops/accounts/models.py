"""Tables for people who sign in: internal users, partner users, and API tokens."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ecoops.audit import utcnow
from ecoops.db import Base


class User(Base):
    """An internal user: someone at our company, with one role."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Their Slack member id (U…): mentions, direct messages, and who pressed a Slack button.
    slack_user_id: Mapped[str] = mapped_column(String(40), default="", index=True)


class ContactRole(StrEnum):
    """What a partner contact does at the partner: nurture steps and messages can target one (the seed's
    separate nurture of a partner's Sales and CS teams)."""

    SALES = "sales"
    CS = "cs"
    MARKETING = "marketing"
    EXEC = "exec"
    TECHNICAL = "technical"


class PartnerUser(Base):
    """A person at a partner company: a contact, and when `can_sign_in` a user of the portal, who sees
    only what its partner's sharing rules allow."""

    __tablename__ = "partner_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    is_partner_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    contact_role: Mapped[str] = mapped_column(String(20), default="")  # a ContactRole, or "" (not said)
    # A contact who only receives e-mail has no password ("") and cannot sign in.
    can_sign_in: Mapped[bool] = mapped_column(Boolean, default=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ApiToken(Base):
    """A bearer token for /api/v1, acting as its holder: an internal user or a partner user (who reaches
    only the partner API, scoped to its partner). Only a SHA-256 of the secret is stored."""

    __tablename__ = "api_tokens"
    __table_args__ = (CheckConstraint("(user_id IS NULL) <> (partner_user_id IS NULL)", name="one_holder"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    partner_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("partner_users.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))  # shown in lists so users can tell tokens apart
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebSession(Base):
    """A signed-in browser session. The cookie carries its id; only the id's SHA-256 is stored.

    Held here rather than only in the signed cookie so that signing out or a password change ends it
    on the server: a copied cookie is worth nothing afterwards.
    """

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_kind: Mapped[str] = mapped_column(String(20))  # "user" | "partner_user"
    user_id: Mapped[int] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class SignInFailure(Base):
    """One failed sign-in, under two keys (the e-mail and the client address) for the throttle."""

    __tablename__ = "sign_in_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300), index=True)  # "email:…" or "ip:…"
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
