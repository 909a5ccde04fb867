"""The demo's commissions: a plan per program from last month on, last month's accruals waiting for
finance, one deal reopened this month after its commission was approved, reversed by a new line, and a
partner-funds claim reimbursed into the ledger.

Partners with a portal user are preferred, so their statement shows the reversal and the reimbursement.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.accounts.models import PartnerUser
from ecoops.accounts.service import partner_user_actor
from ecoops.actors import Actor
from ecoops.commissions import accruals, funds, ledger, plans
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
    _fund_claim(session, actor, settings, today)
    return len(session.scalars(select(CommissionEntry.id)).all())


def _fund_claim(session: Session, actor: Actor, settings: Settings, today: date) -> None:
    """This quarter's funds for the first partner with a portal user: a webinar requested, approved,
    claimed with its invoice and reimbursed."""
    user = session.scalars(select(PartnerUser).order_by(PartnerUser.id)).first()
    if user is None:
        return
    quarter = f"{today.year}-Q{(today.month - 1) // 3 + 1}"
    allocation = funds.allocate(session, actor, user.partner_id, quarter, "10,000", settings.currency)
    partner = partner_user_actor(user)
    request = funds.request_funds(
        session, partner, allocation.id, "Joint webinar with our solution team", "4,000"
    )
    funds.decide_request(session, actor, request.id, approve=True)
    invoice = b"Invoice 2291: webinar production and promotion, 3,850.00\n"
    funds.submit_claim(
        session, partner, request.id, "3,850", invoice, "webinar-invoice.txt", settings.var_dir
    )
    funds.decide_claim(session, actor, request.id, approve=True)
