"""Tables of onboarding: applications, agreement acceptances, checklist items and their check-offs."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecoops.audit import utcnow
from ecoops.db import Base
from ecoops.partners.models import Program


class ApplicationStatus(StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    DECLINED = "declined"


class PartnerApplication(Base):
    """A company's request to join a program, sent through the public form at /apply."""

    __tablename__ = "partner_applications"

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int | None] = mapped_column(ForeignKey("programs.id", ondelete="SET NULL"), index=True)
    company: Mapped[str] = mapped_column(String(200))
    website: Mapped[str] = mapped_column(String(300), default="")
    domain: Mapped[str] = mapped_column(String(253), default="", index=True)
    country: Mapped[str] = mapped_column(String(2), default="")
    partner_type: Mapped[str] = mapped_column(String(30))
    contact_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    contact_role: Mapped[str] = mapped_column(String(20), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    submitted_from: Mapped[str] = mapped_column(String(64), default="")  # the client address
    status: Mapped[str] = mapped_column(String(12), default=ApplicationStatus.SUBMITTED.value, index=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    # The partner an approval created.
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id", ondelete="SET NULL"))
    program: Mapped[Program | None] = relationship()


class AgreementAcceptance(Base):
    """A partner admin accepting one version of a program's agreement: who, when, from where."""

    __tablename__ = "agreement_acceptances"
    __table_args__ = (UniqueConstraint("partner_id", "program_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    version: Mapped[str] = mapped_column(String(40))
    # Kept as the name and e-mail people read, so the record survives a removed contact.
    partner_user_id: Mapped[int | None] = mapped_column(ForeignKey("partner_users.id", ondelete="SET NULL"))
    accepted_by: Mapped[str] = mapped_column(String(300))
    accepted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    address: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(500), default="")


class ChecklistItem(Base):
    """One step of a program's onboarding; a partner cannot move into `gates_stage` until it is done."""

    __tablename__ = "checklist_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    help_text: Mapped[str] = mapped_column(Text, default="")
    gates_stage: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Done by itself while the partner has accepted the program's current agreement version.
    done_by_agreement: Mapped[bool] = mapped_column(Boolean, default=False)
    program: Mapped[Program] = relationship()


class ChecklistCheck(Base):
    """One item checked off for one partner, by whom and when."""

    __tablename__ = "checklist_checks"
    __table_args__ = (UniqueConstraint("partner_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("checklist_items.id", ondelete="CASCADE"), index=True)
    checked_by: Mapped[str] = mapped_column(String(200))
    checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
