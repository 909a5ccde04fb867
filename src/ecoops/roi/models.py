"""Tables of program ROI: the program's costs, one row per amount spent, and the gross-margin setting."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Date, DateTime, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ecoops.audit import utcnow
from ecoops.db import Base


class CostCategory(StrEnum):
    PEOPLE = "people"
    FUNDS = "funds"
    COMMISSIONS = "commissions"
    TOOLS = "tools"


class CostSource(StrEnum):
    ENTERED = "entered"  # typed in by a person
    LEDGER = "ledger"  # taken from the commission ledger for its month (replaced when taken again)


class ProgramCost(Base):
    """An amount the program cost, dated on a day of the month it belongs to (the first, for amounts
    entered per month; the last, for a month taken from the ledger)."""

    __tablename__ = "program_costs"

    id: Mapped[int] = mapped_column(primary_key=True)
    spent_on: Mapped[date] = mapped_column(Date, index=True)
    category: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    source: Mapped[str] = mapped_column(String(10), default=CostSource.ENTERED.value)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RoiSetting(Base):
    """The one row of ROI settings: the gross margin that turns revenue into gross profit."""

    __tablename__ = "roi_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    gross_margin: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    updated_by: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
