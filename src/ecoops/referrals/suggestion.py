"""Which partner to give a lead that came without one: a ranking with its reasons spelled out."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ecoops.engines.matching.countries import country_code
from ecoops.partners.models import Membership, Partner, PartnerType, Stage
from ecoops.referrals.models import Referral, Status

# Partners that can take a customer on: the life-cycle stages after signing, churned aside.
WORKING_STAGES = (Stage.SIGNED, Stage.ONBOARDING, Stage.ACTIVE, Stage.PRODUCING)
# Types that deliver to customers; technology and marketplace partners rarely take a lead on.
SERVICE_TYPES = frozenset({PartnerType.RESELLER, PartnerType.SYSTEMS_INTEGRATOR, PartnerType.AGENCY})
WON = frozenset({Status.APPROVED, Status.ACCEPTED})
LOST = frozenset({Status.REJECTED, Status.DECLINED})


@dataclass
class Suggestion:
    partner: Partner
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)

    def add(self, points: float, reason: str) -> None:
        self.score += points
        self.reasons.append(reason)


def _outcomes(session: Session) -> tuple[Counter[int], Counter[int], Counter[int]]:
    """Per partner: referrals won, lost, and outbound ones still waiting for its answer."""
    won: Counter[int] = Counter()
    lost: Counter[int] = Counter()
    waiting: Counter[int] = Counter()
    rows = session.execute(
        select(Referral.partner_id, Referral.status, func.count()).group_by(
            Referral.partner_id, Referral.status
        )
    )
    for partner_id, status, count in rows:
        if status in WON:
            won[partner_id] += count
        elif status in LOST:
            lost[partner_id] += count
        elif status == Status.SENT:
            waiting[partner_id] += count
    return won, lost, waiting


def suggest_partners(
    session: Session, *, country: str = "", partner_type: str = "", limit: int = 5
) -> list[Suggestion]:
    """Working partners ranked by geography, type, tier, spare capacity and past conversion."""
    code = country_code(country) if country.strip() else None
    won, lost, waiting = _outcomes(session)
    partners = session.scalars(
        select(Partner)
        .where(Partner.stage.in_([s.value for s in WORKING_STAGES]))
        .options(selectinload(Partner.memberships).selectinload(Membership.tier))
    )
    suggestions = []
    for partner in partners:
        suggestion = Suggestion(partner)
        if code and partner.country == code:
            suggestion.add(3, f"based in {code}")
        if partner_type and partner.partner_type == partner_type:
            suggestion.add(2, f"a {partner_type.replace('_', ' ')} partner, as asked")
        elif partner.partner_type in SERVICE_TYPES:
            suggestion.add(1, f"a {partner.partner_type.replace('_', ' ')}: delivers to customers")
        tiers = [m.tier for m in partner.memberships if m.tier is not None]
        if tiers:
            top = max(tiers, key=lambda tier: tier.rank)
            suggestion.add(0.5 * top.rank, f"tier {top.name}")
        if waiting[partner.id]:
            suggestion.add(-0.5 * waiting[partner.id], f"{waiting[partner.id]} referral(s) still unanswered")
        decided = won[partner.id] + lost[partner.id]
        if decided:
            suggestion.add(
                2 * won[partner.id] / decided, f"converted {won[partner.id]} of {decided} referrals"
            )
        if partner.stage == Stage.PRODUCING:
            suggestion.add(0.5, "already producing revenue")
        suggestions.append(suggestion)
    suggestions.sort(key=lambda s: (-s.score, s.partner.name.lower(), s.partner.id))
    return suggestions[:limit]
