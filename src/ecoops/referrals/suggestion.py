"""Which partner to give a lead that came without one: a ranking with its reasons spelled out.

A partner whose current account list has the company among its customers, or with an open opportunity
of its own, comes first whatever the other reasons (the warmest introduction); the rest follow by
points for geography, type, tier, spare capacity and past conversion.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ecoops.engines.matching.countries import country_code
from ecoops.mapping.cross_partner import listings
from ecoops.mapping.runs import is_customer_label, is_open_opportunity_label
from ecoops.partners.models import Membership, Partner, PartnerType, Stage
from ecoops.referrals.companies import company_keys, matching_accounts
from ecoops.referrals.models import Referral, Status

# Partners that can take a customer on: the life-cycle stages after signing, churned aside.
WORKING_STAGES = (Stage.SIGNED, Stage.ONBOARDING, Stage.ACTIVE, Stage.PRODUCING)
# Types that deliver to customers; technology and marketplace partners rarely take a lead on.
SERVICE_TYPES = frozenset({PartnerType.RESELLER, PartnerType.SYSTEMS_INTEGRATOR, PartnerType.AGENCY})
WON = frozenset({Status.APPROVED, Status.ACCEPTED})
LOST = frozenset({Status.REJECTED, Status.DECLINED})


# How a partner already has the company, warmest first: these rank before any points.
AS_CUSTOMER, OPEN_WITH_IT, NOT_LISTED = 0, 1, 2


@dataclass
class Suggestion:
    partner: Partner
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)
    overlap: int = NOT_LISTED

    @property
    def overlap_label(self) -> str:
        return {AS_CUSTOMER: "has it as a customer", OPEN_WITH_IT: "open with it"}.get(self.overlap, "")

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


def _overlaps(session: Session, company: str, domain: str, country: str) -> dict[int, tuple[int, str]]:
    """Partner id → how its current list has the company (our account of that name or domain), and
    the reason to show; partners that list it otherwise are left out."""
    accounts = {a.crm_id: a.name for a in matching_accounts(session, company_keys(company, domain, country))}
    found: dict[int, tuple[int, str]] = {}
    for listing in listings(session, accounts) if accounts else []:
        name, population = accounts[listing.our_crm_id], listing.their_population
        if is_customer_label(population):
            overlap = (AS_CUSTOMER, f"already has {name} as a customer (their {population} list)")
        elif is_open_opportunity_label(population):
            overlap = (OPEN_WITH_IT, f"has an open opportunity with {name} (their {population} list)")
        else:
            continue
        found[listing.partner_id] = min(found.get(listing.partner_id, overlap), overlap)
    return found


def suggest_partners(
    session: Session,
    *,
    company: str = "",
    domain: str = "",
    country: str = "",
    partner_type: str = "",
    limit: int = 5,
) -> list[Suggestion]:
    """Working partners that have the company as a customer or open with it first, then the others by
    geography, type, tier, spare capacity and past conversion."""
    code = country_code(country) if country.strip() else None
    overlaps = _overlaps(session, company, domain, country)
    won, lost, waiting = _outcomes(session)
    partners = session.scalars(
        select(Partner)
        .where(Partner.stage.in_([s.value for s in WORKING_STAGES]))
        .options(selectinload(Partner.memberships).selectinload(Membership.tier))
    )
    suggestions = []
    for partner in partners:
        suggestion = Suggestion(partner)
        if partner.id in overlaps:
            suggestion.overlap, reason = overlaps[partner.id]
            suggestion.reasons.append(reason)
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
    suggestions.sort(key=lambda s: (s.overlap, -s.score, s.partner.name.lower(), s.partner.id))
    return suggestions[:limit]
