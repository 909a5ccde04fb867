"""Tables of the reporting cadence: report pack schedules, and the periods each one has been sent for."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ecoops.audit import utcnow
from ecoops.db import Base


class Audience(StrEnum):
    LEADERSHIP = "leadership"
    FINANCE = "finance"


class Cadence(StrEnum):
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class ReportSchedule(Base):
    """A report pack sent to its recipients after each week or month ends."""

    __tablename__ = "report_schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    audience: Mapped[str] = mapped_column(String(20))
    cadence: Mapped[str] = mapped_column(String(10))
    recipients: Mapped[str] = mapped_column(Text)  # e-mail addresses, comma-separated
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ReportPackSend(Base):
    """One schedule's pack for one period, enqueued once: the unique pair decides between two workers."""

    __tablename__ = "report_pack_sends"
    __table_args__ = (UniqueConstraint("schedule_id", "period_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(
        ForeignKey("report_schedules.id", ondelete="CASCADE"), index=True
    )
    period_key: Mapped[str] = mapped_column(String(10))  # "2025-W14" or "2025-03"
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
