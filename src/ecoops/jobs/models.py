"""The `jobs` table: one row per piece of long work, from queued to done or failed."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ecoops.audit import utcnow
from ecoops.db import Base


class JobState(StrEnum):
    QUEUED = "queued"  # waiting for next_attempt_at (a retry waits there after a failed attempt)
    RUNNING = "running"  # claimed by a worker until claimed_until (its lease), then due again
    DONE = "done"
    FAILED = "failed"  # every attempt failed; a person may retry it


ACTIVE = (JobState.QUEUED.value, JobState.RUNNING.value)


class Job(Base):
    __tablename__ = "jobs"
    # The worker's question (what is due?) and the page's (the latest job about this subject).
    __table_args__ = (
        Index("ix_jobs_due", "state", "next_attempt_at"),
        Index("ix_jobs_subject", "subject", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(200))  # what it works on, e.g. "partner:7"
    arguments: Mapped[dict[str, Any]] = mapped_column(JSON)
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    actor: Mapped[dict[str, Any]] = mapped_column(JSON)  # who queued it: the handler acts as them
    queued_by: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(10), default=JobState.QUEUED.value)
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, default=0)  # 0: not known
    progress_message: Mapped[str] = mapped_column(String(300), default="")
    result: Mapped[str] = mapped_column(String(500), default="")  # what a done job did, in a sentence
    result_url: Mapped[str] = mapped_column(String(300), default="")  # where that is shown, if not its page
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    worker_id: Mapped[str] = mapped_column(String(100), default="")
    claim_token: Mapped[str] = mapped_column(String(32), default="")  # changes with every claim
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    @property
    def percent(self) -> int | None:
        if not self.progress_total:
            return None
        return min(100, round(100 * self.progress_done / self.progress_total))
