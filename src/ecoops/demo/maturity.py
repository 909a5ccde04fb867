"""The demo's EcoOps maturity: integrations for its technology partners (statuses dated over the past
months, a few accounts using each), the questionnaire answered for Launch and Prove, an assessment for
each of the last three months-ends and today, and the roadmap of the stage found, seeded from the
template and owned by the first partner manager."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.accounts.models import User
from ecoops.actors import Actor, Role
from ecoops.config import Settings
from ecoops.crm.models import Account
from ecoops.maturity import criteria, integrations, roadmap
from ecoops.maturity.integrations import IntegrationInput
from ecoops.maturity.models import IntegrationStatus
from ecoops.partners.models import Partner, PartnerType

# Each tech partner's integration: a product name and the statuses it went through, one every STEP_DAYS.
PRODUCTS = ("CRM sync", "Slack app", "Data warehouse connector")
PATHS: tuple[tuple[IntegrationStatus, ...], ...] = (
    (IntegrationStatus.IDEA, IntegrationStatus.BUILDING, IntegrationStatus.VALIDATED, IntegrationStatus.LIVE),
    (
        IntegrationStatus.IDEA,
        IntegrationStatus.BUILDING,
        IntegrationStatus.VALIDATED,
        IntegrationStatus.LISTED,
    ),
    (IntegrationStatus.IDEA, IntegrationStatus.BUILDING, IntegrationStatus.VALIDATED),
    (IntegrationStatus.IDEA, IntegrationStatus.BUILDING),
    (IntegrationStatus.IDEA,),
)
STEP_DAYS = 45
ANSWERS = {"q_integration_owners": "yes", "q_rules_of_engagement": "yes", "q_joint_plans": "no"}
TECH_PARTNERS = 4
ACCOUNTS_PER_INTEGRATION = 6


def seed_maturity(session: Session, actor: Actor, settings: Settings, today: date) -> int:
    """Seed the demo's integrations, answers, assessments and roadmap; how many roadmap tasks."""
    tech = session.scalars(
        select(Partner)
        .where(Partner.partner_type == PartnerType.TECHNOLOGY.value)
        .order_by(Partner.id)
        .limit(TECH_PARTNERS)
    ).all()
    customers = list(session.scalars(select(Account.crm_id).order_by(Account.id).limit(200)))
    for number, partner in enumerate(tech):
        path = PATHS[number % len(PATHS)]
        start = today - timedelta(days=STEP_DAYS * len(path))
        name = PRODUCTS[number % len(PRODUCTS)]
        url = f"https://marketplace.example/apps/{partner.id}" if len(path) >= 4 else ""
        found = integrations.create_integration(
            session, actor, IntegrationInput(partner.id, name, path[0], partner.owner_id, url, start), today
        )
        for step, status in enumerate(path[1:], start=1):
            data = IntegrationInput(
                partner.id, name, status, partner.owner_id, url, start + timedelta(days=STEP_DAYS * step)
            )
            integrations.update_integration(session, actor, found, data, today)
        if path[-1] in (IntegrationStatus.VALIDATED, IntegrationStatus.LISTED, IntegrationStatus.LIVE):
            chosen = customers[number * ACCOUNTS_PER_INTEGRATION : (number + 1) * ACCOUNTS_PER_INTEGRATION]
            if chosen:
                integrations.add_accounts(session, actor, found, "\n".join(chosen), today)
    for question, answer in ANSWERS.items():
        criteria.answer(session, actor, question, answer, today)
    for months in (-3, -2, -1):
        criteria.record(session, actor, settings, roadmap.month_end(today, months))
    stage = criteria.record(session, actor, settings, today).stage
    owner = session.scalar(
        select(User.id).where(User.role == Role.PARTNER_MANAGER.value, User.is_active).order_by(User.id)
    )
    return len(roadmap.seed_from_template(session, actor, settings, stage, owner, today))
