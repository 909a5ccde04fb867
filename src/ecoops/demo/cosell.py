"""Co-sell requests for the demo: account executives ask partners that have their accounts for help,
through the co-sell service once the partners' lists are mapped, in every state, dated in the last
weeks, so the co-sell pages, the portal and the influenced figures are not empty."""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.accounts.models import PartnerUser, User
from ecoops.accounts.service import partner_user_actor, user_actor
from ecoops.actors import Role
from ecoops.automation.digest.picks import account_executives
from ecoops.config import get_settings
from ecoops.crm.models import Account, Opportunity
from ecoops.demo.referrals import moment_on, on_the_day, redate
from ecoops.mapping.cross_partner import listings
from ecoops.referrals import cosell, outbound
from ecoops.referrals.models import ReferralLink

# (days ago it was asked, the partner's answer: True yes, False no, None still waiting)
REQUESTS = ((20, True), (14, True), (9, False), (6, True), (5, None), (0, None))  # 5 days: past its SLA


def seed_co_sell(session: Session, seed: int, as_of: date) -> int:
    """Ask partners with a portal user about accounts of ours they list, preferably with an open deal;
    how many were asked."""
    settings = get_settings()
    rng = random.Random(f"{seed}:co-sell")
    portal = {
        user.partner_id: partner_user_actor(user)
        for user in session.scalars(
            select(PartnerUser).where(PartnerUser.is_partner_admin).order_by(PartnerUser.id)
        )
    }
    open_deals = set(
        session.scalars(select(Opportunity.account_crm_id).where(Opportunity.is_closed.is_(False)))
    )
    pairs = sorted({(listing.partner_id, listing.our_crm_id) for listing in listings(session)})
    pairs = [(partner_id, crm_id) for partner_id, crm_id in pairs if partner_id in portal]
    # Accounts with an open deal, whose figures a yes moves; a small workspace may have too few of them.
    with_deals = [pair for pair in pairs if pair[1] in open_deals]
    candidates = with_deals if len(with_deals) >= len(REQUESTS) else pairs
    owners = {crm_id: owner for crm_id, owner in session.execute(select(Account.crm_id, Account.owner))}
    executives = account_executives(session)
    sales = session.scalars(select(User).where(User.role == Role.SALES.value).order_by(User.id)).all()
    picked = rng.sample(candidates, min(len(REQUESTS), len(candidates)))
    for (partner_id, crm_id), (days_ago, answer) in zip(picked, REQUESTS, strict=False):
        day = as_of - timedelta(days=days_ago)
        seller = user_actor(executives.get(owners.get(crm_id, "")) or rng.choice(sales))
        data = cosell.prefill(session, seller, partner_id=partner_id, account_crm_id=crm_id)
        referral = cosell.ask_for_help(
            session,
            seller,
            data,
            partner_id=partner_id,
            account_crm_id=crm_id,
            settings=on_the_day(settings, day),
        )
        asked, decided = moment_on(rng, day), None
        if answer is not None:
            answered_on = min(day + timedelta(days=rng.randint(1, 3)), as_of)
            reason = "" if answer else "We are not close enough to this account"
            outbound.respond(
                session,
                portal[partner_id],
                referral.id,
                accept=answer,
                settings=on_the_day(settings, answered_on),
                reason=reason,
            )
            decided = moment_on(rng, answered_on)
        redate(referral, settings, asked, decided)
        link = session.scalars(select(ReferralLink).where(ReferralLink.referral_id == referral.id)).one()
        link.created_at, link.expires_at = asked, asked + (link.expires_at - link.created_at)
    session.flush()
    return len(picked)
