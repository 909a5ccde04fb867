"""Tables of EcoOps maturity: tech partners' integrations (status history, accounts using them), the
questionnaire's answers, the dated assessments, and the roadmap's tasks."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecoops.audit import utcnow
from ecoops.db import Base


class MaturityStage(StrEnum):
    """The GoToEcosystem stages, in order."""

    LAUNCH = "launch"
    PROVE = "prove"
    SCALE = "scale"
    EMBED = "embed"


class IntegrationStatus(StrEnum):
    IDEA = "idea"
    BUILDING = "building"
    VALIDATED = "validated"
    LISTED = "listed"
    LIVE = "live"


# Validated or further along: what the Launch stage counts.
VALIDATED_OR_LATER = (IntegrationStatus.VALIDATED, IntegrationStatus.LISTED, IntegrationStatus.LIVE)


class Element(StrEnum):
    """The five elements of EcoOps."""

    ENABLEMENT = "enablement"
    WORKFLOWS = "workflows"
    DATA_SHARING = "data_sharing"
    ANALYSIS_REPORTING = "analysis_reporting"
    AUTOMATION_TOOLING = "automation_tooling"


class OpsGroup(StrEnum):
    PARTNER_OPS = "partner_ops"
    SALES_OPS = "sales_ops"
    MARKETING_OPS = "marketing_ops"
    CS_OPS = "cs_ops"
    PRODUCT_OPS = "product_ops"
    OTHER_OPS = "other_ops"  # legal and finance


class TaskStatus(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"
    DONE = "done"


class Integration(Base):
    """One integration of a tech partner's product with ours; `status_since` is its last status change."""

    __tablename__ = "integrations"
    __table_args__ = (UniqueConstraint("partner_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(12))
    status_since: Mapped[date] = mapped_column(Date)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    listing_url: Mapped[str] = mapped_column(String(500), default="")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    changes: Mapped[list[IntegrationStatusChange]] = relationship(
        order_by="IntegrationStatusChange.id", cascade="all, delete-orphan", passive_deletes=True
    )


class IntegrationStatusChange(Base):
    """A dated status change ("" → idea when the integration is registered)."""

    __tablename__ = "integration_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(ForeignKey("integrations.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str] = mapped_column(String(12), default="")
    to_status: Mapped[str] = mapped_column(String(12))
    changed_on: Mapped[date] = mapped_column(Date)
    changed_by: Mapped[str] = mapped_column(String(200))


class IntegrationAccount(Base):
    """An account of ours (by CRM id) that uses the integration."""

    __tablename__ = "integration_accounts"
    __table_args__ = (UniqueConstraint("integration_id", "account_crm_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(ForeignKey("integrations.id", ondelete="CASCADE"), index=True)
    account_crm_id: Mapped[str] = mapped_column(String(64), index=True)
    added_on: Mapped[date] = mapped_column(Date)


class MaturityAnswer(Base):
    """The questionnaire's answer to one question (criteria.QUESTIONS), the latest one kept."""

    __tablename__ = "maturity_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    question: Mapped[str] = mapped_column(String(40), unique=True)
    answer: Mapped[bool] = mapped_column(Boolean)
    answered_by: Mapped[str] = mapped_column(String(200))
    answered_on: Mapped[date] = mapped_column(Date)


class MaturityAssessment(Base):
    """One assessment run: the stage found on `assessed_on` and each criterion's figure then."""

    __tablename__ = "maturity_assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    assessed_on: Mapped[date] = mapped_column(Date, index=True)
    stage: Mapped[str] = mapped_column(String(10))
    criteria: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    run_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RoadmapTask(Base):
    """An EcoOps task on the grid of elements x ops groups, with a live KPI (roadmap.KPIS) and a target."""

    __tablename__ = "roadmap_tasks"
    # A stage's roadmap holds each template task once (manual tasks have no key: NULLs never clash).
    __table_args__ = (UniqueConstraint("stage", "template_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    stage: Mapped[str] = mapped_column(String(10), index=True)
    element: Mapped[str] = mapped_column(String(30))
    ops_group: Mapped[str] = mapped_column(String(20))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    due_on: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(12))
    outcome: Mapped[str] = mapped_column(Text, default="")
    kpi: Mapped[str] = mapped_column(String(40))
    target: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    template_key: Mapped[str | None] = mapped_column(String(40))  # the template task it came from
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
