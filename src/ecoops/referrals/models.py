"""Tables of referrals: the referral itself, its dated status history, signed links and routing rules."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecoops.audit import utcnow
from ecoops.db import Base


class Direction(StrEnum):
    INBOUND = "inbound"  # a partner brings us a lead or registers a deal
    OUTBOUND = "outbound"  # our seller refers a customer to a partner


class Kind(StrEnum):
    EQL = "eql"  # an ecosystem-qualified lead
    DEAL_REGISTRATION = "deal_registration"
    INTRO = "intro"  # outbound only: our seller asks the partner for an introduction (co-sell)


# What a partner or seller picks on a referral form; an intro is asked for from an overlapping account.
FORM_KINDS = (Kind.EQL, Kind.DEAL_REGISTRATION)


class Status(StrEnum):
    SUBMITTED = "submitted"  # inbound, waiting for a partner manager
    APPROVED = "approved"  # inbound, handed to sales
    REJECTED = "rejected"
    SENT = "sent"  # outbound, waiting for the partner
    ACCEPTED = "accepted"  # outbound, the partner took it on
    DECLINED = "declined"


class Via(StrEnum):
    PORTAL = "portal"
    LINK = "link"  # the no-login form behind a partner's signed link
    API = "api"
    INTERNAL = "internal"  # entered by one of our users


class Referral(Base):
    __tablename__ = "referrals"

    id: Mapped[int] = mapped_column(primary_key=True)
    direction: Mapped[str] = mapped_column(String(10), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    company: Mapped[str] = mapped_column(String(200))
    domain: Mapped[str] = mapped_column(String(253), default="")
    # Matching keys, computed with account mapping's normalisation so both agree on "same company".
    domain_key: Mapped[str] = mapped_column(String(253), default="", index=True)
    name_key: Mapped[str] = mapped_column(String(200), default="", index=True)
    country: Mapped[str] = mapped_column(String(2), default="")
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    estimated_value: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    notes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), index=True)
    submitted_via: Mapped[str] = mapped_column(String(10))
    submitted_by: Mapped[str] = mapped_column(String(254), default="")
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    link_id: Mapped[int | None] = mapped_column(ForeignKey("referral_links.id", ondelete="SET NULL"))
    # Conflicts found at submission, kept as found so the reviewer sees what the partner saw.
    conflicts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    sla_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    registration_expires_on: Mapped[date | None] = mapped_column(Date)
    account_crm_id: Mapped[str] = mapped_column(String(64), default="", index=True)
    opportunity_crm_id: Mapped[str] = mapped_column(String(64), default="", index=True)
    assigned_seller_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    routed_by: Mapped[str] = mapped_column(String(20), default="")  # account_owner | territory | round_robin
    history: Mapped[list[ReferralStatusChange]] = relationship(
        cascade="all, delete-orphan", order_by="(ReferralStatusChange.changed_at, ReferralStatusChange.id)"
    )


class ReferralStatusChange(Base):
    """One status a referral entered, when, by whom and why; partners see this history."""

    __tablename__ = "referral_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    changed_by: Mapped[str] = mapped_column(String(254), default="")
    reason: Mapped[str] = mapped_column(Text, default="")


class ReferralLink(Base):
    """A partner's signed no-login link, to submit referrals or to answer one co-sell request; the
    signature carries this row's id and partner."""

    __tablename__ = "referral_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(254), default="")
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set on a co-sell answer link: it answers this one outbound request, and submits nothing.
    referral_id: Mapped[int | None] = mapped_column(
        ForeignKey("referrals.id", ondelete="CASCADE", use_alter=True), index=True
    )


class FormNonce(Base):
    """A one-time token handed out with each no-login form: a submission spends it (no replays)."""

    __tablename__ = "referral_form_nonces"

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("referral_links.id", ondelete="CASCADE"), index=True)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)


class TerritoryRule(Base):
    """Approved leads from `country` go to this seller when the account has no owner of ours."""

    __tablename__ = "referral_territories"

    id: Mapped[int] = mapped_column(primary_key=True)
    country: Mapped[str] = mapped_column(String(2), unique=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
