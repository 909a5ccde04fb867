"""Tables of nurture: sequences and their steps, partners' enrolments, and each step's fate per enrolment."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecoops.audit import utcnow
from ecoops.db import Base


class StepChannel(StrEnum):
    """Who a step goes to, and how."""

    PARTNER_EMAIL = "partner_email"  # every active partner user of the partner
    MANAGER_EMAIL = "manager_email"  # the partner manager (Partner.owner_id)
    MANAGER_SLACK = "manager_slack"  # the manager's Slack user, or a channel of the step's mentioning them
    MANAGER_TASK = "manager_task"  # a to-do on the partner manager's task list


class EnrolmentStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"  # every step was sent or skipped
    STOPPED = "stopped"  # the partner left the stage (or the sequence's stage changed)


class SendStatus(StrEnum):
    SENT = "sent"  # enqueued for delivery (the deliveries table says whether it arrived)
    SKIPPED = "skipped"  # not sent, with the reason: due before enrolment, nobody to send to


class NurtureSequence(Base):
    __tablename__ = "nurture_sequences"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    stage: Mapped[str] = mapped_column(String(20), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # When it was last switched on: steps that fell due before then are never back-filled.
    enabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    steps: Mapped[list[NurtureStep]] = relationship(
        back_populates="sequence",
        cascade="all, delete-orphan",
        order_by="(NurtureStep.delay_days, NurtureStep.id)",
    )


class NurtureStep(Base):
    __tablename__ = "nurture_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    sequence_id: Mapped[int] = mapped_column(
        ForeignKey("nurture_sequences.id", ondelete="CASCADE"), index=True
    )
    delay_days: Mapped[int] = mapped_column(Integer)  # days after the partner entered the stage
    channel: Mapped[str] = mapped_column(String(20))
    slack_channel: Mapped[str] = mapped_column(String(100), default="")  # manager_slack: empty = a DM
    subject: Mapped[str] = mapped_column(String(300))  # templates (templates.py)
    body: Mapped[str] = mapped_column(Text)
    content_url: Mapped[str] = mapped_column(String(500), default="")
    content_title: Mapped[str] = mapped_column(String(120), default="")
    # partner_email: only the partner's contacts of this role (accounts.models.ContactRole); "" = all of them.
    contact_role: Mapped[str] = mapped_column(String(20), default="")
    # A step added later is not back-filled to partners whose day for it has passed.
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sequence: Mapped[NurtureSequence] = relationship(back_populates="steps")


class NurtureEnrolment(Base):
    """One partner going through one sequence, from the day it entered the sequence's stage."""

    __tablename__ = "nurture_enrolments"
    __table_args__ = (UniqueConstraint("sequence_id", "partner_id", "entered_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sequence_id: Mapped[int] = mapped_column(
        ForeignKey("nurture_sequences.id", ondelete="CASCADE"), index=True
    )
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(20))
    entered_on: Mapped[date] = mapped_column(Date)  # the partner's stage_since: step days count from here
    # The first day a step may fall on to be sent: steps due earlier are skipped, not back-filled.
    sends_from: Mapped[date] = mapped_column(Date)
    enrolled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    status: Mapped[str] = mapped_column(String(10), default=EnrolmentStatus.ACTIVE.value, index=True)
    # The day its next unhandled step falls due (None when none is left): a tick reads only enrolments
    # due by today. Editing the sequence's steps resets it to `entered_on`, "look again".
    next_due_on: Mapped[date | None] = mapped_column(Date, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    end_reason: Mapped[str] = mapped_column(Text, default="")
    sequence: Mapped[NurtureSequence] = relationship()
    sends: Mapped[list[NurtureSend]] = relationship(
        cascade="all, delete-orphan", order_by="(NurtureSend.due_on, NurtureSend.id)"
    )


class NurtureSend(Base):
    """What became of one step for one enrolment: sent (with its deliveries) or skipped, and why."""

    __tablename__ = "nurture_sends"
    __table_args__ = (UniqueConstraint("enrolment_id", "step_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("nurture_enrolments.id", ondelete="CASCADE"))
    # Kept when the step is deleted later, so the partner's history still says what happened.
    step_id: Mapped[int | None] = mapped_column(
        ForeignKey("nurture_steps.id", ondelete="SET NULL"), index=True
    )
    subject: Mapped[str] = mapped_column(String(300), default="")
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text, default="")
    messages: Mapped[int] = mapped_column(Integer, default=0)  # enqueued (one per contact) or tasks added
    handled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
