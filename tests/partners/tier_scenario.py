"""A small program whose tier evaluation is worked out by hand (as of 31 December 2025, trailing 365 days:
1 January to 31 December 2025).

Program "Resell": Registered (rank 0, no criteria), Silver (rank 1: sourced revenue ≥ 10,000 and won
deals ≥ 2), Gold (rank 2: sourced revenue ≥ 50,000, referrals sent ≥ 3, certified people ≥ 2).

- Ada (Registered): sources 6,000 (won 1 Mar) and 4,000 (won 1 Jun): revenue exactly 10,000, 2 won
  deals → Silver: an upgrade, at the threshold.
- Bo (Registered): sources 5,000 and 4,999.99: 9,999.99, one cent under → stays Registered, no proposal.
- Cy (Gold, 2 certified people): sources 60,000 (won 1 Jan, the window's first day) and co-sells a
  1,000 deal (influenced, won 1 Jul): 2 won deals; sends 3 referrals, one rejected → 2 < 3, so not Gold;
  Silver is met → a downgrade to Silver.
- Dee (Silver): sources 9,000 (won 1 Apr) and 1,000 won 31 Dec 2024, one day before the window: 9,000
  and 1 won deal → Silver not met → a downgrade to Registered (the floor). Counting the old deal would
  make it 10,000 and 2 deals, and keep Dee in Silver.
- Eli (Registered, churned) sources 80,000: churned partners are not evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from ecoops.actors import SYSTEM
from ecoops.attribution.models import PartnerTouch
from ecoops.partners import programs
from ecoops.partners.models import Partner, Program, Tier
from ecoops.partners.tier_terms import CriterionInput, TierTerms, set_tier_terms
from ecoops.referrals.models import Referral
from tests.factories import make_opportunity, make_partner

AS_OF = date(2025, 12, 31)


@dataclass
class TierScenario:
    program: Program
    registered: Tier
    silver: Tier
    gold: Tier
    partners: dict[str, Partner]


def _won(session: Session, partner: Partner, amount: str, closed: date, kind: str = "referral") -> None:
    """A won deal created a month before it closed, with the partner's confirmed touch on its creation day."""
    created = date(closed.year - (closed.month == 1), (closed.month - 2) % 12 + 1, 1)
    deal = make_opportunity(
        session,
        amount=Decimal(amount),
        created_on=created,
        close_date=closed,
        stage="Closed Won",
        is_closed=True,
        is_won=True,
    )
    session.add(
        PartnerTouch(
            partner_id=partner.id,
            opportunity_crm_id=deal.crm_id,
            kind=kind,
            touched_on=created,
            status="confirmed",
            evidence_type="user",
            evidence_ref="1",
        )
    )


def _referral(session: Session, partner: Partner, status: str, on: date) -> None:
    session.add(
        Referral(
            direction="inbound",
            kind="eql",
            partner_id=partner.id,
            company=f"Lead of {on}",
            status=status,
            submitted_via="portal",
            submitted_at=datetime(on.year, on.month, on.day, 12, tzinfo=UTC),
        )
    )


def seed(session: Session) -> TierScenario:
    program = programs.create_program(session, SYSTEM, name="Resell", tiers=["Registered", "Silver", "Gold"])
    registered, silver, gold = program.tiers
    set_tier_terms(
        session,
        SYSTEM,
        silver,
        TierTerms(
            registration_days=90,
            commission_class="C2",
            criteria=[CriterionInput("sourced_revenue", "10000"), CriterionInput("won_deals", 2)],
        ),
    )
    set_tier_terms(
        session,
        SYSTEM,
        gold,
        TierTerms(
            mdf_eligible=True,
            criteria=[
                CriterionInput("sourced_revenue", "50000"),
                CriterionInput("referrals_sent", 3),
                CriterionInput("certified_people", 2),
            ],
        ),
    )
    ada = make_partner(session, name="Ada", tiers=[registered])
    bo = make_partner(session, name="Bo", tiers=[registered])
    cy = make_partner(session, name="Cy", tiers=[gold])
    dee = make_partner(session, name="Dee", tiers=[silver])
    eli = make_partner(session, name="Eli", tiers=[registered], stage="churned")
    cy.certified_people = 2
    _won(session, ada, "6000", date(2025, 3, 1))
    _won(session, ada, "4000", date(2025, 6, 1))
    _won(session, bo, "5000", date(2025, 5, 1))
    _won(session, bo, "4999.99", date(2025, 8, 1))
    _won(session, cy, "60000", date(2025, 1, 1))
    _won(session, cy, "1000", date(2025, 7, 1), kind="co_sell")
    for status, on in (
        ("approved", date(2025, 2, 1)),
        ("submitted", date(2025, 9, 1)),
        ("rejected", date(2025, 10, 1)),
    ):
        _referral(session, cy, status, on)
    _won(session, dee, "9000", date(2025, 4, 1))
    _won(session, dee, "1000", date(2024, 12, 31))
    _won(session, eli, "80000", date(2025, 5, 1))
    session.flush()
    return TierScenario(
        program, registered, silver, gold, {"ada": ada, "bo": bo, "cy": cy, "dee": dee, "eli": eli}
    )
