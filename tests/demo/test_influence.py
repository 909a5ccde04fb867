"""The demo's influence logs: partners log on the deals of their own referrals, sellers on open deals;
a partner manager confirmed some and disputed one, the rest wait for review."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from sqlalchemy import select

from ecoops.accounts.models import PartnerUser
from ecoops.accounts.service import partner_user_actor
from ecoops.attribution import influence
from ecoops.attribution.models import InfluenceLog, PartnerTouch
from ecoops.config import Settings
from ecoops.crm.models import Opportunity
from ecoops.db import session_factory, transaction
from ecoops.demo.influence import BY_PARTNERS, BY_SELLERS, DISPUTE_REASON, seed_influence
from ecoops.demo.referrals import seed_referrals
from tests.demo.conftest import SeededDatabase


def test_influence_logs_are_partly_reviewed_and_on_the_partners_own_deals(
    seed_database: Callable[..., SeededDatabase], settings: Settings
) -> None:
    workspace = seed_database()
    with transaction(session_factory(workspace.engine)) as session:
        seed_referrals(session, 11, workspace.as_of, settings.currency)
        logged = seed_influence(session, settings, workspace.as_of)
        rows = session.execute(
            select(InfluenceLog, PartnerTouch).join(PartnerTouch, PartnerTouch.id == InfluenceLog.touch_id)
        ).all()
        assert len(rows) == logged > len(BY_SELLERS)
        assert all(log.opportunity_crm_id for log, _ in rows)
        open_deals = set(session.scalars(select(Opportunity.crm_id).where(Opportunity.is_closed.is_(False))))
        assert {log.opportunity_crm_id for log, _ in rows if not log.logged_by_partner} <= open_deals
        by_partners = [(log, touch) for log, touch in rows if log.logged_by_partner]
        assert len(by_partners) == logged - len(BY_SELLERS)
        for log, _ in by_partners:
            admin = session.scalars(
                select(PartnerUser).where(
                    PartnerUser.partner_id == log.partner_id, PartnerUser.is_partner_admin
                )
            ).first()
            assert admin is not None
            own = influence.partner_deals(session, partner_user_actor(admin))
            assert (log.opportunity_crm_id, "") in own
        statuses = Counter(touch.status for _, touch in rows)
        planned = [d for *_, d in BY_PARTNERS[: len(by_partners)] + BY_SELLERS]
        assert statuses == Counter(
            {
                "confirmed": sum(d is not None and d.value == "confirm" for d in planned),
                "disputed": 1,
                "proposed": sum(d is None for d in planned),
            }
        )
        assert [t.review_reason for _, t in rows if t.status == "disputed"] == [DISPUTE_REASON]
        assert all(t.touched_on <= workspace.as_of for _, t in rows)
