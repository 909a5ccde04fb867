"""Tables of partner fit: the ideal partner profile's criteria and what is known of each partner beyond
its record (its size, its integration's status) that the criteria read."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ecoops.audit import utcnow
from ecoops.db import Base


class Criterion(StrEnum):
    PARTNER_TYPE = "partner_type"
    CUSTOMER_OVERLAP = "customer_overlap"
    PIPELINE_OVERLAP = "pipeline_overlap"
    REGION = "region"
    SIZE = "size"
    INTEGRATION = "integration"
    REFERRAL_CONVERSION = "referral_conversion"


class FitCriterion(Base):
    """One criterion of the profile: its weight and its target ("technology, reseller", "50", "50-5000")."""

    __tablename__ = "fit_criteria"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(30), unique=True)
    weight: Mapped[int] = mapped_column(Integer)
    target: Mapped[str] = mapped_column(String(500), default="")
    updated_by: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class FitProfile(Base):
    """What the partner record does not hold: head count, and the integration status of a candidate not
    yet in the integration registry (the registry decides for partners in it), with a note."""

    __tablename__ = "fit_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), unique=True)
    employees: Mapped[int | None] = mapped_column(Integer)
    integration_status: Mapped[str] = mapped_column(String(20), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    updated_by: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
