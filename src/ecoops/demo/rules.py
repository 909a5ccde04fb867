"""The demo's automation: staff linked to Slack, and rules that show the issue's flows.

Seeded after the partner lists are mapped, so the rules act on what happens next (a new overlap, a
registration) rather than on the hundreds of overlaps the demo opens with. Slack ids are made up;
point ECOOPS_SLACK_* at a real workspace (or the tests' stand-in) to see the messages.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.accounts.models import User
from ecoops.actors import Actor
from ecoops.automation.conditions import Conditions
from ecoops.automation.rules import Action, ActionKind, RuleInput, To, create_rule
from ecoops.automation.slack_users import set_slack_user_id
from ecoops.demo.people import STAFF
from ecoops.events import EventKind
from ecoops.referrals.models import Direction, Kind

DEALS_CHANNEL = "#partner-deals"

RULES = (
    RuleInput(
        name="New customer overlap: tell the account owner and the partner manager",
        trigger=EventKind.OVERLAP_BEGAN.value,
        conditions=Conditions(population="Customers"),
        actions=[Action(ActionKind.SLACK, To.ACCOUNT_OWNER), Action(ActionKind.EMAIL, To.PARTNER_MANAGER)],
    ),
    RuleInput(
        name="Deal registration submitted: review it in #partner-deals",
        trigger=EventKind.REFERRAL_SUBMITTED.value,
        conditions=Conditions(direction=Direction.INBOUND, referral_kind=Kind.DEAL_REGISTRATION),
        actions=[Action(ActionKind.SLACK, To.CHANNEL, DEALS_CHANNEL)],
    ),
    RuleInput(
        name="Referral waiting past its SLA: a task for the partner manager",
        trigger=EventKind.REFERRAL_SLA_BREACHED.value,
        conditions=Conditions(),
        actions=[Action(ActionKind.TASK, To.PARTNER_MANAGER, due_days=1)],
    ),
    RuleInput(
        name="Partner influence logged: ask the deal owner to confirm it in Slack",
        trigger=EventKind.INFLUENCE_LOGGED.value,
        conditions=Conditions(),
        actions=[Action(ActionKind.SLACK, To.ACCOUNT_OWNER)],  # the payload's account owner is the deal's
    ),
    RuleInput(
        name="Partner gone quiet: a task for its manager",
        trigger=EventKind.PARTNER_INACTIVE.value,
        conditions=Conditions(),
        actions=[Action(ActionKind.TASK, To.PARTNER_MANAGER, due_days=7)],
    ),
)


def demo_slack_id(index: int) -> str:
    return f"U0DEMO{index:03d}"


def seed_rules(session: Session, actor: Actor) -> int:
    """Link every staff member to a made-up Slack id and create the demo rules, switched on."""
    emails = [member.email for member in STAFF]
    users = {u.email: u for u in session.scalars(select(User).where(User.email.in_(emails)))}
    for index, email in enumerate(emails):
        if email in users:
            set_slack_user_id(session, actor, users[email].id, demo_slack_id(index))
    for data in RULES:
        create_rule(session, actor, data, enabled=True)
    return len(RULES)
