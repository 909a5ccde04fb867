"""Partner touches: the dated evidence linking a partner to an opportunity or account (METRICS.md),
their review, and the attribution rules (grace, look-back, half-life) with every change kept.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, Date, DateTime, Float, ForeignKey, Integer, String, Text
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

# A touch derived from data (the CRM's partner-source field, an overlap) enters as a proposal: a partner
# manager confirms or disputes it, and only confirmed touches count (docs/metrics.md "Touch statuses").
# The workspace may make the CRM's partner field the system of record instead (`CrmPartnerField`).
DERIVED_TOUCH_STATUS = "proposed"


class CrmPartnerField(StrEnum):
    """What the CRM's partner-source field is worth (an attribution rule, kept with its history)."""

    REVIEW = "review"  # its crm_source touches wait for review (the default)
    RECORD = "record"  # the system of record: they count at once, and stay disputable


CRM_SOURCE_STATUS = {CrmPartnerField.REVIEW: DERIVED_TOUCH_STATUS, CrmPartnerField.RECORD: "confirmed"}


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
    # The last review of a proposed touch: who confirmed or disputed it, when and why.
    reviewed_by: Mapped[str] = mapped_column(String(200), default="")
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    review_reason: Mapped[str] = mapped_column(Text, default="")
    # The sender's own id of a touch brought in a batch (attribution/touch_batch.py): a retry adds nothing.
    external_id: Mapped[str | None] = mapped_column(String(120), index=True, unique=True)


class MetricSettingsChange(Base):
    """One version of the attribution rules; the latest row is in force, the older ones its history.

    Rules are agreed in advance: a figure for a past date is computed with the rules in force now, and
    this table (with the audit trail) says who changed them, when and why.
    """

    __tablename__ = "metric_settings_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    sourcing_grace_days: Mapped[int] = mapped_column(Integer)
    influence_look_back_days: Mapped[int] = mapped_column(Integer)
    time_decay_half_life_days: Mapped[float] = mapped_column(Float)
    crm_partner_field: Mapped[str] = mapped_column(String(10), default="review", server_default="review")
    reason: Mapped[str] = mapped_column(Text, default="")
    changed_by: Mapped[str] = mapped_column(String(200), default="")
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Activity(StrEnum):
    """What a partner did on a deal, as the person logging it names it (docs/influence.md)."""

    INTRO = "intro"
    MEETING = "meeting"
    DEMO = "demo"
    CO_SELL_CALL = "co_sell_call"
    CONTENT = "content"
    DELIVERY = "delivery"


# Each activity is stored as a touch of the kind the metrics know; the activity stays on the log.
ACTIVITY_KIND: dict[Activity, TouchKind] = {
    Activity.INTRO: TouchKind.CO_SELL,
    Activity.MEETING: TouchKind.CO_SELL,
    Activity.DEMO: TouchKind.CO_SELL,
    Activity.CO_SELL_CALL: TouchKind.CO_SELL,
    Activity.CONTENT: TouchKind.CONTENT,
    Activity.DELIVERY: TouchKind.DELIVERY,
}
INFLUENCE_EVIDENCE = "influence_log"  # a touch's evidence_type when a log entry is its evidence


class InfluenceLog(Base):
    """What someone saw a partner do on a deal: the evidence of one proposed touch (its status is the
    touch's), with a note and, optionally, a link and a file kept under the uploads folder."""

    __tablename__ = "influence_logs"

    id: Mapped[int] = mapped_column(primary_key=True)
    touch_id: Mapped[int] = mapped_column(ForeignKey("partner_touches.id", ondelete="CASCADE"), unique=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    opportunity_crm_id: Mapped[str] = mapped_column(String(64), default="", index=True)
    account_crm_id: Mapped[str] = mapped_column(String(64), default="", index=True)
    activity: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(2000), default="")
    file_token: Mapped[str] = mapped_column(String(32), default="")
    file_name: Mapped[str] = mapped_column(String(300), default="")
    file_size: Mapped[int] = mapped_column(Integer, default=0)
    logged_by: Mapped[str] = mapped_column(String(200), default="")
    # Logged in the portal by one of the partner's users: the partner's own logs, which it sees (with our
    # decision); what our people log about it stays internal.
    logged_by_partner: Mapped[bool] = mapped_column(Boolean, default=False)
    logged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
