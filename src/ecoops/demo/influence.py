"""Influence logs for the demo: partners' admins log what they did on the deals of their referrals,
and sellers log a partner's help on their own deals; partner managers confirm some and dispute one, the
rest wait, so the review queue, the account pages and the portal's influence page are not empty.

Logged through the influence service as the people who would log them (the checks, events and audit
trail are the real ones), dated in the last weeks of the demo's today.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.accounts.models import PartnerUser, User
from ecoops.accounts.service import partner_user_actor, user_actor
from ecoops.actors import Actor, Role
from ecoops.attribution import influence
from ecoops.attribution.models import Activity
from ecoops.attribution.review import Decision
from ecoops.config import Settings
from ecoops.crm.models import Opportunity
from ecoops.demo.referrals import on_the_day

# (activity, days ago, what the partner did, the review: confirm, dispute or None to leave waiting)
BY_PARTNERS = (
    (Activity.DEMO, 12, "Ran the joint demo with the customer's IT team", Decision.CONFIRM),
    (Activity.MEETING, 8, "Brought their CFO to the pricing meeting", Decision.CONFIRM),
    (Activity.INTRO, 5, "Introduced our AE to the new head of operations", None),
    (Activity.CONTENT, 3, "Shared our integration guide with the buying committee", None),
)
BY_SELLERS = (
    (Activity.CO_SELL_CALL, 10, "Partner joined the discovery call and scoped the rollout", Decision.CONFIRM),
    (Activity.MEETING, 6, "Partner says they met the champion; nobody on our side saw it", Decision.DISPUTE),
    (Activity.DELIVERY, 2, "Partner's consultants will run the pilot", None),
)
DISPUTE_REASON = "The customer's notes show no partner in that meeting"


def seed_influence(session: Session, settings: Settings, today: date) -> int:
    """Log, and partly review, a handful of partners' touches on open deals; how many were logged."""
    rng = random.Random("influence")
    open_deals = {
        crm_id: account
        for crm_id, account in session.execute(
            select(Opportunity.crm_id, Opportunity.account_crm_id).where(Opportunity.is_closed.is_(False))
        )
    }
    manager = session.scalars(
        select(User).where(User.role == Role.PARTNER_MANAGER.value).order_by(User.id)
    ).first()
    sellers = session.scalars(select(User).where(User.role == Role.SALES.value).order_by(User.id)).all()
    admins = session.scalars(
        select(PartnerUser).where(PartnerUser.is_partner_admin).order_by(PartnerUser.id)
    ).all()
    if manager is None or not sellers or not admins:
        return 0
    reviewer = user_actor(manager)
    logged = 0

    def log(actor: Actor, partner_id: int, activity: Activity, days_ago: int, note: str, deal: str) -> int:
        data = influence.LogInput(
            partner_id=partner_id,
            activity=activity.value,
            happened_on=today - timedelta(days=days_ago),
            note=note,
            opportunity_crm_id=deal,
        )
        return influence.log_influence(session, actor, data, on_the_day(settings, today)).id

    decisions: list[tuple[int, Decision]] = []
    with_deals = []  # partner admins whose referrals became deals here: the open ones, else any
    for admin in admins:
        actor = partner_user_actor(admin)
        theirs = sorted(o for o, _ in influence.partner_deals(session, actor) if o)
        deals = [o for o in theirs if o in open_deals] or theirs
        if deals:
            with_deals.append((actor, admin.partner_id, deals))
    for (actor, partner_id, deals), (activity, days_ago, note, decision) in zip(
        with_deals, BY_PARTNERS, strict=False
    ):
        log_id = log(actor, partner_id, activity, days_ago, note, rng.choice(deals))
        logged += 1
        if decision is not None:
            decisions.append((log_id, decision))
    partners = [admin.partner_id for admin in admins]
    deals = sorted(open_deals)
    for n, (activity, days_ago, note, decision) in enumerate(BY_SELLERS):
        seller = sellers[n % len(sellers)]
        log_id = log(user_actor(seller), rng.choice(partners), activity, days_ago, note, rng.choice(deals))
        logged += 1
        if decision is not None:
            decisions.append((log_id, decision))
    for log_id, decision in decisions:
        reason = DISPUTE_REASON if decision == Decision.DISPUTE else ""
        influence.decide(session, reviewer, log_id, decision, reason)
    return logged
