"""Partner touches: the dated evidence linking a partner to an opportunity or account (METRICS.md)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ecoops.audit import utcnow
from ecoops.db import Base


class TouchKind(StrEnum):
    REFERRAL = "referral"
    DEAL_REGISTRATION = "deal_registration"
    CRM_SOURCE = "crm_source"
    CO_SELL = "co_sell"
    OVERLAP = "overlap"
    CONTENT = "content"
    MARKETPLACE = "marketplace"
    DELIVERY = "delivery"


TOUCH_CLASS: dict[TouchKind, str] = {
    TouchKind.REFERRAL: "sourcing",
    TouchKind.DEAL_REGISTRATION: "sourcing",
    TouchKind.CRM_SOURCE: "sourcing",
    TouchKind.CO_SELL: "influence",
    TouchKind.OVERLAP: "influence",
    TouchKind.CONTENT: "influence",
    TouchKind.MARKETPLACE: "influence",
    TouchKind.DELIVERY: "delivery",
}


class PartnerTouch(Base):
    __tablename__ = "partner_touches"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    opportunity_crm_id: Mapped[str] = mapped_column(String(64), default="", index=True)
    account_crm_id: Mapped[str] = mapped_column(String(64), default="", index=True)
    kind: Mapped[str] = mapped_column(String(30))
    touched_on: Mapped[date] = mapped_column(Date)
    # What proves it: e.g. ("referral", "42"), ("user", "7"), ("crm_field", "Partner__c").
    evidence_type: Mapped[str] = mapped_column(String(40), default="")
    evidence_ref: Mapped[str] = mapped_column(String(120), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="confirmed")  # proposed|confirmed|disputed
    recorded_by: Mapped[str] = mapped_column(String(200), default="")
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
