"""The outbox table: one row per domain event, kept after dispatch as the history rules are tried on."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ecoops.audit import utcnow
from ecoops.db import Base


class EventKind(StrEnum):
    OVERLAP_BEGAN = "overlap.began"
    OVERLAP_ENDED = "overlap.ended"
    REFERRAL_SUBMITTED = "referral.submitted"
    REFERRAL_APPROVED = "referral.approved"
    REFERRAL_REJECTED = "referral.rejected"
    REFERRAL_SLA_BREACHED = "referral.sla_breached"
    REGISTRATION_EXPIRING = "registration.expiring"
    OPPORTUNITY_WON = "opportunity.won"
    OPPORTUNITY_LOST = "opportunity.lost"
    PARTNER_STAGE_CHANGED = "partner.stage_changed"
    PARTNER_INACTIVE = "partner.inactive"
    PARTNER_LIST_UPLOADED = "partner.list_uploaded"
    PARTNER_APPLICATION_SUBMITTED = "partner.application_submitted"
    TIER_CHANGE_PROPOSED = "tier.change_proposed"
    INFLUENCE_LOGGED = "influence.logged"
    INFLUENCE_CONFIRMED = "influence.confirmed"
    INFLUENCE_DISPUTED = "influence.disputed"
    COMMISSION_APPROVED = "commission.approved"
    STATEMENT_READY = "commission.statement_ready"
    FUND_CLAIM_SUBMITTED = "fund_claim.submitted"
    FUND_CLAIM_APPROVED = "fund_claim.approved"


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (Index("ix_events_undispatched", "dispatched_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Globally unique and stable: deliveries derive their idempotency ids from it.
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    # What the event is about, as columns so rule conditions and "try on the last 30 days" can filter.
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id", ondelete="SET NULL"), index=True)
    account_crm_id: Mapped[str] = mapped_column(String(64), default="")
    opportunity_crm_id: Mapped[str] = mapped_column(String(64), default="")
    # Everything else a message needs (names, amounts, populations, links), JSON-serialisable.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Set when the dispatcher has turned the event into deliveries (or found no rule for it).
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
