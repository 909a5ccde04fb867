"""Write-back's tables, named for any CRM (`connection_id` names the connection, hence the provider).

- `crm_writeback_fields`: which ecoops value goes to which CRM field; off until an admin turns it on;
- `crm_writeback_ledger`: the value last written per record and field — what "unchanged" and "a person
  changed it since" are measured against;
- `crm_writeback_runs` and `crm_writeback_items`: each run's counts, and its lines worth reading
  (a dry run's changes, conflicts, failures).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ecoops.audit import utcnow
from ecoops.db import Base


class WritebackField(Base):
    """One target (targets.py) and the CRM field an admin named for it."""

    __tablename__ = "crm_writeback_fields"
    __table_args__ = (UniqueConstraint("connection_id", "target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("crm_connections.id", ondelete="CASCADE"))
    target: Mapped[str] = mapped_column(String(40))  # a targets.TARGETS key
    crm_field: Mapped[str] = mapped_column(String(120))  # e.g. Ecoops_Partners__c
    field_length: Mapped[int] = mapped_column(Integer, default=255)  # from describe; longer values cut
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_by: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LedgerEntry(Base):
    """The value ecoops last wrote to `crm_field` of record `record_id` (and the CRM accepted)."""

    __tablename__ = "crm_writeback_ledger"
    __table_args__ = (UniqueConstraint("connection_id", "record_id", "crm_field"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("crm_connections.id", ondelete="CASCADE"))
    object_name: Mapped[str] = mapped_column(String(80))
    record_id: Mapped[str] = mapped_column(String(64))
    crm_field: Mapped[str] = mapped_column(String(120))
    value: Mapped[str] = mapped_column(Text, default="")
    written_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WritebackRun(Base):
    __tablename__ = "crm_writeback_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(
        ForeignKey("crm_connections.id", ondelete="CASCADE"), index=True
    )
    trigger: Mapped[str] = mapped_column(String(20))  # manual | after_sync | cli
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default="running")  # running | done | failed
    written: Mapped[int] = mapped_column(Integer, default=0)  # a dry run: values that would be written
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    conflicts: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    calls: Mapped[int] = mapped_column(Integer, default=0)  # write calls made (each up to 200 records)
    error: Mapped[str] = mapped_column(Text, default="")
    actor_label: Mapped[str] = mapped_column(String(200), default="")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WritebackItem(Base):
    """One record and field of a run: a change (dry run), a conflict or a failure; old → new."""

    __tablename__ = "crm_writeback_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("crm_writeback_runs.id", ondelete="CASCADE"), index=True)
    outcome: Mapped[str] = mapped_column(String(20))  # change | conflict | failed
    object_name: Mapped[str] = mapped_column(String(80))
    record_id: Mapped[str] = mapped_column(String(64))
    crm_field: Mapped[str] = mapped_column(String(120))
    old: Mapped[str] = mapped_column(Text, default="")  # the CRM's value now
    new: Mapped[str] = mapped_column(Text, default="")  # what ecoops would write
    last_written: Mapped[str | None] = mapped_column(Text)  # the ledger's value (None: never written)
    message: Mapped[str] = mapped_column(Text, default="")
