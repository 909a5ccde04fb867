"""A tier's plan pays by the tier the partner held on the deal's close date, read from its tier changes."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from ecoops.actors import SYSTEM
from ecoops.config import Settings
from ecoops.partners.editing import PartnerEdit, update_partner
from ecoops.partners.tier_history import Held, held_periods
from tests.commissions.world import accrue, entries, plan, program_with_partners, won_deal


@pytest.mark.all_backends
def test_an_upgrade_after_the_close_pays_the_old_tiers_rate_for_that_deal(
    session: Session, settings: Settings
) -> None:
    """Silver pays 10 %, Gold 15 %. The partner moves from Silver to Gold on 10 March.
    Deal A (1,000.00, closed 3 March, Silver): 100.00 under Silver.
    Deal B (1,000.00, closed 10 March, the day of the move: Gold already): 150.00 under Gold.
    Deal C (2,000.00, closed 20 March, Gold): 300.00 under Gold.
    With today's tier only (the old behaviour) A would have been 150.00 under Gold."""
    program, (partner,) = program_with_partners(session)
    silver, gold = program.tiers
    silver_plan = plan(session, program, name="Silver 10", tier_id=silver.id, rates=[("0", "10")])
    gold_plan = plan(session, program, name="Gold 15", tier_id=gold.id, rates=[("0", "15")])
    deal_a = won_deal(session, partner, "1000", date(2025, 3, 3))
    deal_b = won_deal(session, partner, "1000", date(2025, 3, 10))
    deal_c = won_deal(session, partner, "2000", date(2025, 3, 20))
    update_partner(
        session,
        SYSTEM,
        partner.id,
        PartnerEdit(tier_ids=[gold.id]),
        on=date(2025, 3, 10),
        today=date(2025, 4, 1),
    )
    accrue(session, settings, date(2025, 3, 31))
    paid = {(e.subject, e.plan_id, e.amount_cents) for e in entries(session, partner)}
    assert paid == {
        (deal_a, silver_plan.id, 100_00),
        (deal_b, gold_plan.id, 150_00),
        (deal_c, gold_plan.id, 300_00),
    }


def test_a_partner_never_moved_is_paid_by_its_tier_for_every_date(
    session: Session, settings: Settings
) -> None:
    program, (partner,) = program_with_partners(session)
    silver, gold = program.tiers
    plan(session, program, name="Gold 15", tier_id=gold.id, rates=[("0", "15")])
    silver_plan = plan(session, program, name="Silver 10", tier_id=silver.id, rates=[("0", "10")])
    won_deal(session, partner, "1000", date(2025, 1, 5))
    accrue(session, settings, date(2025, 3, 31))
    assert [(e.plan_id, e.amount_cents) for e in entries(session, partner)] == [(silver_plan.id, 100_00)]


def test_periods_read_backwards_through_the_changes() -> None:
    """Today Gold; Silver to Gold on 10 March; Bronze to Silver twice on 1 Feb (the last stands: Silver,
    so Bronze until 1 Feb); a tier since renamed ("Tin") resolves to no tier; another program's ignored."""
    tiers = {"Bronze": 1, "Silver": 2, "Gold": 3}
    changes = [
        (date(2025, 1, 10), "Resell · Tin", "Resell · Bronze"),
        (date(2025, 1, 20), "Other · A", "Other · B"),
        (date(2025, 2, 1), "Resell · Bronze", "Resell · Gold"),
        (date(2025, 2, 1), "Resell · Gold", "Resell · Silver"),
        (date(2025, 3, 10), "Resell · Silver", "Resell · Gold"),
    ]
    assert held_periods((7, 9, 3), "Resell", tiers, changes) == [
        Held(7, 9, 3, date(2025, 3, 10), None),
        Held(7, 9, 2, date(2025, 2, 1), date(2025, 3, 10)),
        Held(7, 9, 1, date(2025, 1, 10), date(2025, 2, 1)),
        Held(7, 9, None, None, date(2025, 1, 10)),
    ]
    assert held_periods((7, 9, 3), "Resell", tiers, []) == [Held(7, 9, 3, None, None)]
