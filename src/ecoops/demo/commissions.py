"""The demo's commissions: a plan per program from last month on, last month's accruals waiting for
finance, and one deal reopened this month after its commission was approved, reversed by a new line.

Partners with a portal user are preferred for the reopened deal, so their statement shows the reversal.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.accounts.models import PartnerUser
from ecoops.actors import Actor
from ecoops.commissions import accruals, ledger, plans
from ecoops.commissions.models import CommissionEntry, Status
from ecoops.config import Settings
from ecoops.crm.models import OpportunityStageChange
from ecoops.partners.models import Program


def seed_commissions(session: Session, actor: Actor, settings: Settings, today: date) -> int:
    """Plans, last month's accruals (pending) and a reversal this month; the number of ledger lines."""
    this_month = today.replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    for program in session.scalars(select(Program).order_by(Program.id)):
        plans.create_plan(
            session,
            actor,
            plans.PlanInput(
                name=f"{program.name} resale",
                program_id=program.id,
                basis="sourced",
                rates=[("0", "10"), ("100,000", "12")],
                cap_deal="25,000",
                clawback_days=90,
                valid_from=last_month,
            ),
            workspace_currency=settings.currency,
        )
        plans.create_plan(
            session,
            actor,
            plans.PlanInput(
                name=f"{program.name} registration bounty",
                program_id=program.id,
                kind="bounty",
                basis="registration",
                bounty="250",
                valid_from=last_month,
            ),
            workspace_currency=settings.currency,
        )
    session.flush()
    accruals.accrue(session, actor, settings, this_month - timedelta(days=1))
    session.flush()
    deals = list(
        session.scalars(
            select(CommissionEntry)
            .where(CommissionEntry.rate_ppm.is_not(None))
            .order_by(
                CommissionEntry.partner_id.in_(select(PartnerUser.partner_id)).desc(), CommissionEntry.id
            )
        )
    )
    if deals and today > this_month:
        reopened = deals[0]
        # Finance approved it, then the customer backed out: reopened on the 1st, clawed back today.
        ledger.decide(session, actor, [reopened.id], Status.APPROVED)
        session.add(
            OpportunityStageChange(
                opportunity_crm_id=reopened.subject,
                stage="Negotiation",
                changed_on=this_month,
                is_closed=False,
                is_won=False,
            )
        )
        session.flush()
        accruals.accrue(session, actor, settings, today)
    return len(session.scalars(select(CommissionEntry.id)).all())
