"""Enablement tables: content items and where they are attached, their uses (views and shares, one row
per person, item, action and day), playbooks and their steps, joint account plans with a partner."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecoops.audit import utcnow
from ecoops.db import Base


class Motion(StrEnum):
    REFERRAL = "referral"
    CO_SELL = "co_sell"
    ONBOARDING = "onboarding"
    RESALE = "resale"
    ANY = "any"


class ContentStage(StrEnum):
    """The stage of the deal an item serves (`any`: every stage)."""

    ANY = "any"
    DISCOVER = "discover"
    EVALUATE = "evaluate"
    CLOSE = "close"
    ADOPT = "adopt"


class ContentKind(StrEnum):
    GUIDE = "guide"
    DECK = "deck"
    CASE_STUDY = "case_study"
    BILL_OF_MATERIALS = "bill_of_materials"  # a better-together bill of materials
    BATTLECARD = "battlecard"
    VIDEO = "video"
    OTHER = "other"


class UseAction(StrEnum):
    VIEW = "view"
    SHARE = "share"


class Subject(StrEnum):
    """What content is attached to: a referral (by id) or an opportunity (by CRM id)."""

    REFERRAL = "referral"
    OPPORTUNITY = "opportunity"


class ContentItem(Base):
    """A file (kept under the uploads folder by token) or a link; `partner_id` None: for all partners."""

    __tablename__ = "content_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(30))
    link: Mapped[str] = mapped_column(String(2000), default="")
    file_token: Mapped[str] = mapped_column(String(64), default="")
    file_name: Mapped[str] = mapped_column(String(300), default="")
    file_size: Mapped[int] = mapped_column(Integer, default=0)
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    product: Mapped[str] = mapped_column(String(120), default="")
    motion: Mapped[str] = mapped_column(String(20), default=Motion.ANY.value)
    stage: Mapped[str] = mapped_column(String(20), default=ContentStage.ANY.value)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @property
    def is_file(self) -> bool:
        return bool(self.file_token)


class ContentAttachment(Base):
    """An item attached to a referral or an opportunity; once per item and subject."""

    __tablename__ = "content_attachments"
    __table_args__ = (UniqueConstraint("content_id", "subject", "subject_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    content_id: Mapped[int] = mapped_column(ForeignKey("content_items.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(20))
    subject_key: Mapped[str] = mapped_column(String(64), index=True)  # the referral's id, the CRM id
    attached_by: Mapped[str] = mapped_column(String(200))
    attached_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ContentUse(Base):
    """One person's view or share of an item on one workspace day: the unique key counts it once, even for two
    requests at the same moment. `referral_id`: the referral it was first opened from that day, if any."""

    __tablename__ = "content_uses"
    __table_args__ = (UniqueConstraint("content_id", "person", "action", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    content_id: Mapped[int] = mapped_column(ForeignKey("content_items.id", ondelete="CASCADE"))
    person: Mapped[str] = mapped_column(String(40))  # "user:3", "partner_user:5"
    role: Mapped[str] = mapped_column(String(20))  # the internal role, or "partner_user"
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(10))
    day: Mapped[date] = mapped_column(Date, index=True)
    referral_id: Mapped[int | None] = mapped_column(
        ForeignKey("referrals.id", ondelete="SET NULL"), index=True
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Playbook(Base):
    """Ordered steps for one motion; shown in the portal once published, to all partners (`partner_id`
    None) or to one."""

    __tablename__ = "playbooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    motion: Mapped[str] = mapped_column(String(20))
    summary: Mapped[str] = mapped_column(Text, default="")
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    steps: Mapped[list[PlaybookStep]] = relationship(
        order_by="PlaybookStep.position", cascade="all, delete-orphan", lazy="selectin"
    )


class PlaybookStep(Base):
    __tablename__ = "playbook_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    playbook_id: Mapped[int] = mapped_column(ForeignKey("playbooks.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text, default="")
    who: Mapped[str] = mapped_column(String(20), default="both")  # ours | partner | both
    content_id: Mapped[int | None] = mapped_column(ForeignKey("content_items.id", ondelete="SET NULL"))


class PlanStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    BLOCKED = "blocked"


class JointPlan(Base):
    """A joint account plan with one partner, over overlapping accounts; only that partner sees it."""

    __tablename__ = "joint_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    objective: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class JointPlanAccount(Base):
    """An overlapping account in a plan: our CRM id, and the partner's own record id and name (what the
    partner sees: its own list's name, never our CRM's)."""

    __tablename__ = "joint_plan_accounts"
    __table_args__ = (UniqueConstraint("plan_id", "our_crm_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("joint_plans.id", ondelete="CASCADE"), index=True)
    our_crm_id: Mapped[str] = mapped_column(String(64), index=True)
    their_id: Mapped[str] = mapped_column(String(120))
    their_name: Mapped[str] = mapped_column(String(300), default="")


class JointPlanAction(Base):
    __tablename__ = "joint_plan_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("joint_plans.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    side: Mapped[str] = mapped_column(String(10))  # ours | partner
    owner: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default=PlanStatus.OPEN.value)
    our_crm_id: Mapped[str] = mapped_column(String(64), default="")  # one of the plan's accounts, or none
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
