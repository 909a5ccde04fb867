"""Tables of the partner program: programs, tiers, partners, memberships and the dated life cycle."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

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
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecoops.audit import utcnow
from ecoops.db import Base


class PartnerType(StrEnum):
    TECHNOLOGY = "technology"
    RESELLER = "reseller"
    REFERRAL = "referral"
    AGENCY = "agency"
    MARKETPLACE = "marketplace"
    SYSTEMS_INTEGRATOR = "systems_integrator"
    AFFILIATE = "affiliate"


class Stage(StrEnum):
    """Life-cycle stages in order (METRICS.md); `churned` is reachable from any stage after signed."""

    PROSPECT = "prospect"
    RECRUITING = "recruiting"
    SIGNED = "signed"
    ONBOARDING = "onboarding"
    ACTIVE = "active"
    PRODUCING = "producing"
    CHURNED = "churned"


STAGE_ORDER: tuple[Stage, ...] = tuple(Stage)


class Program(Base):
    __tablename__ = "programs"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    # Retired programs leave the pickers but stay on the partners that held them (history).
    retired_on: Mapped[date | None] = mapped_column(Date)
    # The partner agreement (docs/program.md "Onboarding"): partner admins accept the current version;
    # a new version string asks every partner to accept again. No version: no agreement to accept.
    agreement_version: Mapped[str] = mapped_column(String(40), default="")
    agreement_text: Mapped[str] = mapped_column(Text, default="")
    agreement_url: Mapped[str] = mapped_column(String(500), default="")
    tiers: Mapped[list[Tier]] = relationship(
        back_populates="program", order_by="(Tier.rank, Tier.id)", cascade="all, delete-orphan"
    )

    @property
    def active_tiers(self) -> list[Tier]:
        return [tier for tier in self.tiers if tier.retired_on is None]


class Tier(Base):
    __tablename__ = "tiers"
    __table_args__ = (UniqueConstraint("program_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    rank: Mapped[int] = mapped_column(Integer, default=0)  # 0 is the entry level
    retired_on: Mapped[date | None] = mapped_column(Date)
    program: Mapped[Program] = relationship(back_populates="tiers")
    # Benefits (docs/program.md "Tier criteria and benefits"): what holding the tier gives a partner.
    registration_days: Mapped[int | None] = mapped_column(
        Integer
    )  # a deal registration's life; None: default
    commission_class: Mapped[str] = mapped_column(String(60), default="")
    mdf_eligible: Mapped[bool] = mapped_column(Boolean, default=False)
    portal_content: Mapped[str] = mapped_column(Text, default="")
    criteria: Mapped[list[TierCriterion]] = relationship(
        cascade="all, delete-orphan", order_by="TierCriterion.id"
    )


class TierCriterion(Base):
    """One requirement of a tier: a metric (tier_figures.METRICS) at least `threshold` over a window."""

    __tablename__ = "tier_criteria"
    __table_args__ = (UniqueConstraint("tier_id", "metric"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tier_id: Mapped[int] = mapped_column(ForeignKey("tiers.id", ondelete="CASCADE"), index=True)
    metric: Mapped[str] = mapped_column(String(40))
    threshold: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    window_days: Mapped[int] = mapped_column(Integer, default=365)


class Partner(Base):
    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    crm_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    website: Mapped[str] = mapped_column(String(300), default="")
    partner_type: Mapped[str] = mapped_column(String(30), index=True)
    country: Mapped[str] = mapped_column(String(2), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    # Current stage and since when; the full dated history is in partner_stage_changes.
    stage: Mapped[str] = mapped_column(String(20), index=True)
    stage_since: Mapped[date] = mapped_column(Date)
    # People at the partner holding a current certification of ours: kept by hand (edit form, API).
    certified_people: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    domains: Mapped[list[PartnerDomain]] = relationship(
        cascade="all, delete-orphan", order_by="PartnerDomain.domain"
    )
    memberships: Mapped[list[Membership]] = relationship(cascade="all, delete-orphan")
    stage_changes: Mapped[list[PartnerStageChange]] = relationship(
        cascade="all, delete-orphan",
        order_by="(PartnerStageChange.changed_on, PartnerStageChange.id)",
    )
    changes: Mapped[list[PartnerChange]] = relationship(
        cascade="all, delete-orphan", order_by="(PartnerChange.changed_on, PartnerChange.id)"
    )


class PartnerDomain(Base):
    __tablename__ = "partner_domains"
    __table_args__ = (UniqueConstraint("partner_id", "domain"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    domain: Mapped[str] = mapped_column(String(253), index=True)


class Membership(Base):
    """A partner's place in one program, at one of that program's tiers."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("partner_id", "program_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"), index=True)
    tier_id: Mapped[int | None] = mapped_column(ForeignKey("tiers.id", ondelete="SET NULL"), index=True)
    joined_on: Mapped[date | None] = mapped_column(Date)
    program: Mapped[Program] = relationship()
    tier: Mapped[Tier | None] = relationship()


class PartnerStageChange(Base):
    """One move in a partner's life cycle, dated (the date it happened, not when it was typed)."""

    __tablename__ = "partner_stage_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    from_stage: Mapped[str | None] = mapped_column(String(20))
    to_stage: Mapped[str] = mapped_column(String(20))
    changed_on: Mapped[date] = mapped_column(Date, index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    recorded_by: Mapped[str] = mapped_column(String(200), default="")


class PartnerChange(Base):
    """One edit of a partner's profile (owner, type, tier, program, name...), dated and signed.

    Values are kept as the names people read ("Gold", "Ana Owner"), so the history survives a
    renamed or deleted tier and a deactivated user.
    """

    __tablename__ = "partner_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    field: Mapped[str] = mapped_column(String(40))
    old_value: Mapped[str] = mapped_column(Text, default="")
    new_value: Mapped[str] = mapped_column(Text, default="")
    changed_on: Mapped[date] = mapped_column(Date, index=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    recorded_by: Mapped[str] = mapped_column(String(200), default="")


class ProposalStatus(StrEnum):
    OPEN = "open"
    APPROVED = "approved"
    DISMISSED = "dismissed"
    STALE = "stale"  # the partner's tier changed meanwhile, or a later evaluation proposes otherwise


class TierProposal(Base):
    """An evaluation's proposal to move a partner to another tier of one program, with the figures behind it.

    At most one open proposal per (partner, program): a partial unique index, so two evaluations at
    once cannot both add one.
    """

    __tablename__ = "tier_proposals"
    __table_args__ = (
        Index(
            "uq_tier_proposals_open",
            "partner_id",
            "program_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    # The tier the partner held when evaluated (None: none); approval checks it is still the one held.
    from_tier_id: Mapped[int | None] = mapped_column(ForeignKey("tiers.id", ondelete="SET NULL"))
    to_tier_id: Mapped[int] = mapped_column(ForeignKey("tiers.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(10))  # upgrade / downgrade
    as_of: Mapped[date] = mapped_column(Date)
    # [{tier_id, tier, criteria: [{metric, label, window_days, value, threshold, met}]}], current tier
    # and proposed tier, as computed on `as_of`.
    figures: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(12), default=ProposalStatus.OPEN.value, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200), default="")
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    partner: Mapped[Partner] = relationship()
    program: Mapped[Program] = relationship()
    from_tier: Mapped[Tier | None] = relationship(foreign_keys=[from_tier_id])
    to_tier: Mapped[Tier] = relationship(foreign_keys=[to_tier_id])
