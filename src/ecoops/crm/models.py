"""Our CRM's records, keyed by the CRM's own ids, and the log of every import that wrote them.

Links between CRM records (an opportunity's account, a contact's account) are kept as CRM ids,
not foreign keys, so files can be imported in any order, as the CRMs export them.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ecoops.audit import utcnow
from ecoops.db import Base

Money = Numeric(18, 2)
TEXT = 255  # a CRM text field: Salesforce's text fields and picklist values hold up to 255 characters


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    crm_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300), index=True)
    website: Mapped[str] = mapped_column(String(300), default="")
    domain: Mapped[str] = mapped_column(String(253), default="", index=True)
    country: Mapped[str] = mapped_column(String(TEXT), default="")
    industry: Mapped[str] = mapped_column(String(TEXT), default="")
    account_type: Mapped[str] = mapped_column(String(TEXT), default="")
    owner: Mapped[str] = mapped_column(String(TEXT), default="", index=True)
    parent_crm_id: Mapped[str] = mapped_column(String(64), default="")
    employees: Mapped[int | None] = mapped_column(Integer)
    created_on: Mapped[date | None] = mapped_column(Date)


class Opportunity(Base):
    __tablename__ = "opportunities"

    id: Mapped[int] = mapped_column(primary_key=True)
    crm_id: Mapped[str] = mapped_column(String(64), unique=True)
    account_crm_id: Mapped[str] = mapped_column(String(64), default="", index=True)
    name: Mapped[str] = mapped_column(String(300), default="")
    stage: Mapped[str] = mapped_column(String(TEXT), default="")
    amount: Mapped[Decimal | None] = mapped_column(Money)  # workspace currency
    currency: Mapped[str] = mapped_column(String(3), default="")  # the record's own currency
    original_amount: Mapped[Decimal | None] = mapped_column(Money)
    created_on: Mapped[date | None] = mapped_column(Date, index=True)
    close_date: Mapped[date | None] = mapped_column(Date, index=True)
    is_closed: Mapped[bool] = mapped_column(Boolean, default=False)
    is_won: Mapped[bool] = mapped_column(Boolean, default=False)
    owner: Mapped[str] = mapped_column(String(TEXT), default="", index=True)
    opportunity_type: Mapped[str] = mapped_column(String(TEXT), default="")
    lead_source: Mapped[str] = mapped_column(String(TEXT), default="")
    # The CRM's own partner-source field (a Salesforce lookup, a HubSpot property), as exported.
    partner_source: Mapped[str] = mapped_column(String(TEXT), default="")


class OpportunityStageChange(Base):
    """One entry of an opportunity's stage history: it entered `stage` on `changed_on`."""

    __tablename__ = "opportunity_stage_changes"
    __table_args__ = (UniqueConstraint("opportunity_crm_id", "changed_on", "stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    crm_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    opportunity_crm_id: Mapped[str] = mapped_column(String(64), index=True)
    stage: Mapped[str] = mapped_column(String(TEXT))
    changed_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal | None] = mapped_column(Money)
    is_closed: Mapped[bool | None] = mapped_column(Boolean)
    is_won: Mapped[bool | None] = mapped_column(Boolean)


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    crm_id: Mapped[str] = mapped_column(String(64), unique=True)
    account_crm_id: Mapped[str] = mapped_column(String(64), default="", index=True)
    first_name: Mapped[str] = mapped_column(String(TEXT), default="")
    last_name: Mapped[str] = mapped_column(String(TEXT), default="")
    email: Mapped[str] = mapped_column(String(254), default="", index=True)
    title: Mapped[str] = mapped_column(String(TEXT), default="")
    phone: Mapped[str] = mapped_column(String(60), default="")


class ImportRun(Base):
    """One committed (or refused) import of one file: what it was, what it did, who ran it."""

    __tablename__ = "import_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    source_format: Mapped[str] = mapped_column(String(40))
    filename: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(20))  # committed | rejected
    rows: Mapped[int] = mapped_column(Integer, default=0)
    new: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    mapping: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    actor_label: Mapped[str] = mapped_column(String(200), default="")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ImportRejection(Base):
    """A row an import refused, with the line and field, for the downloadable error report."""

    __tablename__ = "import_rejections"
    __table_args__ = (Index("ix_import_rejections_run_line", "import_run_id", "line"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    import_run_id: Mapped[int] = mapped_column(ForeignKey("import_runs.id", ondelete="CASCADE"))
    line: Mapped[int] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(TEXT))  # a column name as the file spells it
    value: Mapped[str] = mapped_column(Text, default="")
    message: Mapped[str] = mapped_column(Text)
