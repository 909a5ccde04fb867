"""Records for commission tests: a program with members, won deals with their touches, reopenings, plans."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecoops.actors import SYSTEM
from ecoops.attribution.models import PartnerTouch
from ecoops.commissions import accruals, plans
from ecoops.commissions.models import CommissionEntry, CommissionPlan, Status
from ecoops.config import Settings
from ecoops.crm.models import OpportunityStageChange
from ecoops.partners import programs
from ecoops.partners.models import Partner, Program
from ecoops.referrals.models import Direction, Kind, Referral, Via
from ecoops.referrals.models import Status as ReferralStatus
from tests.factories import make_opportunity, make_partner

_seq = itertools.count(1)


def program_with_partners(session: Session, count: int = 1) -> tuple[Program, list[Partner]]:
    program = programs.create_program(session, SYSTEM, name=f"Resell {next(_seq)}", tiers=["Silver", "Gold"])
    return program, [make_partner(session, tiers=[program.tiers[0]]) for _ in range(count)]


def won_deal(
    session: Session,
    partner: Partner,
    amount: str,
    closed_on: date,
    *,
    kind: str = "referral",
    crm_id: str = "",
) -> str:
    """A deal won on `closed_on`, created a week before, with a confirmed touch of `partner` then."""
    created = closed_on - timedelta(days=7)
    opportunity = make_opportunity(
        session,
        **({"crm_id": crm_id} if crm_id else {}),
        amount=Decimal(amount),
        created_on=created,
        close_date=closed_on,
        is_closed=True,
        is_won=True,
        stage="Closed Won",
    )
    session.add(
        PartnerTouch(
            partner_id=partner.id,
            opportunity_crm_id=opportunity.crm_id,
            kind=kind,
            touched_on=created,
            status="confirmed",
        )
    )
    session.add(
        OpportunityStageChange(
            opportunity_crm_id=opportunity.crm_id,
            stage="Closed Won",
            changed_on=closed_on,
            is_closed=True,
            is_won=True,
        )
    )
    session.flush()
    return opportunity.crm_id


def change_stage(session: Session, crm_id: str, on: date, *, closed: bool, won: bool) -> None:
    """Reopen (closed=False), lose (closed, not won) or win again a deal on `on`."""
    stage = "Closed Won" if won else ("Closed Lost" if closed else "Negotiation")
    session.add(
        OpportunityStageChange(
            opportunity_crm_id=crm_id, stage=stage, changed_on=on, is_closed=closed, is_won=won
        )
    )
    session.flush()


def approved_registration(session: Session, partner: Partner, on: date) -> int:
    referral = Referral(
        direction=Direction.INBOUND.value,
        kind=Kind.DEAL_REGISTRATION.value,
        partner_id=partner.id,
        company=f"Registered {next(_seq)}",
        status=ReferralStatus.APPROVED.value,
        submitted_via=Via.PORTAL.value,
        decided_at=datetime(on.year, on.month, on.day, 12),
    )
    session.add(referral)
    session.flush()
    return referral.id


def plan(session: Session, program: Program, **fields: object) -> CommissionPlan:
    data = plans.PlanInput(
        **(
            {"name": "Plan", "program_id": program.id, "valid_from": date(2025, 1, 1), "rates": [("0", "10")]}
            | fields
        ),  # type: ignore[arg-type]
    )
    return plans.create_plan(session, SYSTEM, data, workspace_currency="USD")


def accrue(session: Session, settings: Settings, as_of: date) -> None:
    accruals.accrue(session, SYSTEM, settings, as_of)
    session.flush()


def entries(session: Session, partner: Partner | None = None) -> list[CommissionEntry]:
    query = select(CommissionEntry).order_by(CommissionEntry.id)
    if partner is not None:
        query = query.where(CommissionEntry.partner_id == partner.id)
    return list(session.scalars(query))


def balance(session: Session, partner: Partner) -> int:
    """What the ledger owes the partner: every entry not declined (paid or not)."""
    return (
        session.scalar(
            select(func.coalesce(func.sum(CommissionEntry.amount_cents), 0)).where(
                CommissionEntry.partner_id == partner.id, CommissionEntry.status != Status.DECLINED.value
            )
        )
        or 0
    )
