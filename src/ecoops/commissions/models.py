"""Tables of commissions: effective-dated plans with their rates, and the append-only ledger of entries.

Amounts are integer cents. An entry's amount, plan, partner and explanation never change once written;
a correction is a reversing entry. Only its workflow state (pending → approved | declined | held → paid)
moves, every move audited.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecoops.audit import utcnow
from ecoops.db import Base


class PlanKind(StrEnum):
    PERCENT = "percent"  # a rate of credited revenue
    BOUNTY = "bounty"  # a fixed amount per approved referral or deal registration


class Basis(StrEnum):
    """What a plan pays on: for percent plans the partner's credit, for bounties the referral kind."""

    SOURCED = "sourced"
    INFLUENCED = "influenced"
    REFERRAL = "referral"
    REGISTRATION = "registration"
    ANY = "any"


PERCENT_BASES = (Basis.SOURCED, Basis.INFLUENCED, Basis.ANY)
BOUNTY_BASES = (Basis.REFERRAL, Basis.REGISTRATION, Basis.ANY)


class EntryKind(StrEnum):
    CREDIT = "credit"
    REVERSAL = "reversal"
    REIMBURSEMENT = "reimbursement"  # an approved partner-funds (MDF) claim; no plan


class Status(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"
    HELD = "held"
    PAID = "paid"


# Which state may follow which; paid comes only from a payment file (payments.py).
TRANSITIONS: dict[Status, tuple[Status, ...]] = {
    Status.PENDING: (Status.APPROVED, Status.DECLINED, Status.HELD),
    Status.HELD: (Status.APPROVED, Status.DECLINED),
    Status.APPROVED: (Status.PAID,),
    Status.DECLINED: (),
    Status.PAID: (),
}


class CommissionPlan(Base):
    """One version of a plan: a change is a new row from a later `valid_from` (and the old one ended)."""

    __tablename__ = "commission_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="RESTRICT"), index=True)
    tier_id: Mapped[int | None] = mapped_column(ForeignKey("tiers.id", ondelete="RESTRICT"))
    # Set: this partner's override, which replaces the program's other plans for it.
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    basis: Mapped[str] = mapped_column(String(15))
    months: Mapped[int] = mapped_column(Integer, default=0)
    bounty_cents: Mapped[int | None] = mapped_column(BigInteger)
    cap_deal_cents: Mapped[int | None] = mapped_column(BigInteger)
    cap_period_cents: Mapped[int | None] = mapped_column(BigInteger)
    clawback_days: Mapped[int] = mapped_column(Integer, default=90)
    currency: Mapped[str] = mapped_column(String(3))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    rates: Mapped[list[PlanRate]] = relationship(
        order_by="PlanRate.from_cents", cascade="all, delete-orphan", lazy="selectin"
    )


class PlanRate(Base):
    """A percent plan's rate from a monthly credited volume on (a flat rate: one row from 0)."""

    __tablename__ = "commission_plan_rates"
    __table_args__ = (UniqueConstraint("plan_id", "from_cents"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("commission_plans.id", ondelete="CASCADE"), index=True)
    from_cents: Mapped[int] = mapped_column(BigInteger)
    percent: Mapped[Decimal] = mapped_column(Numeric(7, 4))


class CommissionEntry(Base):
    """One ledger line. The unique key allows one credit per plan, partner, deal and installment in each
    `cycle`; a new cycle opens only when the previous credit is reversed, so no deal is credited twice."""

    __tablename__ = "commission_entries"
    __table_args__ = (
        UniqueConstraint(
            "plan_id", "partner_id", "subject", "installment", "cycle", "kind", name="uq_commission_line"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int | None] = mapped_column(
        ForeignKey("commission_plans.id", ondelete="RESTRICT"), index=True
    )
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="RESTRICT"), index=True)
    subject: Mapped[str] = mapped_column(
        String(80)
    )  # the deal's CRM id, "referral:<id>" or "fund-request:<id>"
    installment: Mapped[int] = mapped_column(Integer, default=0)
    cycle: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(15))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("commission_entries.id"), unique=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    # The statement period is the month of `earned_on`; `closed_on` starts the clawback window.
    earned_on: Mapped[date] = mapped_column(Date, index=True)
    closed_on: Mapped[date] = mapped_column(Date)
    credit: Mapped[str] = mapped_column(String(15))  # source | influence | referral | registration
    credited_cents: Mapped[int | None] = mapped_column(BigInteger)
    rate_ppm: Mapped[int | None] = mapped_column(BigInteger)
    explanation: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), index=True)
    status_reason: Mapped[str] = mapped_column(Text, default="")
    status_changed_by: Mapped[str] = mapped_column(String(200), default="")
    status_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    bill_number: Mapped[str] = mapped_column(String(40), default="")
    paid_on: Mapped[date | None] = mapped_column(Date)
    payment_reference: Mapped[str] = mapped_column(String(120), default="")
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AccrualRun(Base):
    """One computation of accruals as of a date; runs go forward in time (see accruals.accrue)."""

    __tablename__ = "commission_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[date] = mapped_column(Date, index=True)
    ran_by: Mapped[str] = mapped_column(String(200), default="")
    ran_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    credits: Mapped[int] = mapped_column(Integer, default=0)
    reversals: Mapped[int] = mapped_column(Integer, default=0)


class FundStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"


class FundAllocation(Base):
    """Partner funds (MDF) set aside for one partner in one quarter ("2025-Q2")."""

    __tablename__ = "fund_allocations"
    __table_args__ = (UniqueConstraint("partner_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="RESTRICT"), index=True)
    period: Mapped[str] = mapped_column(String(7))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class FundRequest(Base):
    """A partner's planned co-marketing activity and budget against an allocation, then its claim: the
    amount spent with proof of performance. An approved claim is reimbursed by one ledger line."""

    __tablename__ = "fund_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    allocation_id: Mapped[int] = mapped_column(
        ForeignKey("fund_allocations.id", ondelete="RESTRICT"), index=True
    )
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="RESTRICT"), index=True)
    activity: Mapped[str] = mapped_column(Text)
    budget_cents: Mapped[int] = mapped_column(BigInteger)
    # The pipeline the activity produced, when known: an opportunity's CRM id.
    opportunity_crm_id: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(10), default=FundStatus.REQUESTED.value)
    reason: Mapped[str] = mapped_column(Text, default="")
    submitted_by: Mapped[str] = mapped_column(String(200), default="")
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_by: Mapped[str] = mapped_column(String(200), default="")
    claim_status: Mapped[str] = mapped_column(String(10), default="")  # "" | requested | approved | rejected
    claimed_cents: Mapped[int | None] = mapped_column(BigInteger)
    proof_filename: Mapped[str] = mapped_column(String(200), default="")
    proof_key: Mapped[str] = mapped_column(String(80), default="")  # the stored file's name under var_dir
    claim_reason: Mapped[str] = mapped_column(Text, default="")
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("commission_entries.id"), unique=True)
