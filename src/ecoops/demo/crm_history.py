"""Two years of our CRM: accounts owned by account executives, and opportunities moving through the funnel.

Partner involvement is decided first, because it changes how a deal goes: partner-sourced deals win
more often, are larger and close faster, as they do in real pipelines.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from ecoops.attribution.models import TouchKind
from ecoops.demo import crm_ids
from ecoops.demo.companies import COUNTRY_BY_CODE, SUBSIDIARY_LABELS, Company, CompanyGenerator, Segment
from ecoops.demo.program import WORKING_STAGES, DemoPartner, choose_partner
from ecoops.partners.models import PartnerType, Stage

OPEN_STAGES = ("Prospecting", "Qualification", "Needs Analysis", "Proposal", "Negotiation")
CLOSED_WON, CLOSED_LOST = "Closed Won", "Closed Lost"
ESTIMATE_STAGES = frozenset(OPEN_STAGES[:3])  # the amount is a rough estimate until a proposal is made
HISTORY_DAYS = 730
OPPORTUNITIES_PER_ACCOUNT = 0.6
SUBSIDIARY_SHARE = 0.03
REOPEN_SHARE = 0.03
SOURCED_SHARE = 0.17  # of new business
SOURCED_EXPANSION_SHARE = 0.06  # customers buy more mostly without a partner
INFLUENCED_SHARE = 0.18  # of the deals no partner sourced
CRM_FIELD_ONLY_SHARE = 0.3  # sourced deals whose only evidence is the CRM's partner-source field
# Where lost deals die: most early in the funnel.
LOSS_STAGE_WEIGHTS = (30, 28, 18, 14, 10)


@dataclass(frozen=True)
class SegmentDeals:
    median_amount: float
    median_days_to_win: float
    win_rate_adjustment: float
    account_weight: float  # how much more often such accounts see a deal


SEGMENT_DEALS = {
    Segment.SMB: SegmentDeals(9_000, 45, 0.03, 1.0),
    Segment.MID_MARKET: SegmentDeals(32_000, 80, 0.0, 2.0),
    Segment.ENTERPRISE: SegmentDeals(110_000, 125, -0.04, 3.0),
}


@dataclass(frozen=True)
class Motion:
    win_rate: float
    amount_factor: float
    cycle_factor: float


MOTIONS = {
    "direct": Motion(0.20, 1.0, 1.0),
    "influenced": Motion(0.29, 1.15, 0.9),
    "sourced": Motion(0.38, 1.4, 0.72),
}
SOURCING_STAGES = {Stage.SIGNED: 0.3, Stage.ONBOARDING: 1.0, Stage.ACTIVE: 3.0, Stage.PRODUCING: 6.0}
SOURCING_TYPES = {
    PartnerType.RESELLER: 1.2,
    PartnerType.SYSTEMS_INTEGRATOR: 1.0,
    PartnerType.REFERRAL: 1.0,
    PartnerType.TECHNOLOGY: 0.8,
    PartnerType.AGENCY: 0.7,
    PartnerType.AFFILIATE: 0.5,
    PartnerType.MARKETPLACE: 0.3,
}
INFLUENCE_TYPES = {
    PartnerType.TECHNOLOGY: 3.0,
    PartnerType.SYSTEMS_INTEGRATOR: 2.0,
    PartnerType.MARKETPLACE: 1.0,
    PartnerType.RESELLER: 1.0,
    PartnerType.AGENCY: 1.0,
    PartnerType.AFFILIATE: 0.7,
    PartnerType.REFERRAL: 0.5,
}
REGISTERING_TYPES = frozenset({PartnerType.RESELLER, PartnerType.SYSTEMS_INTEGRATOR, PartnerType.MARKETPLACE})
LEAD_SOURCES = {
    "Web": 30,
    "Outbound": 30,
    "Event": 12,
    "Webinar": 8,
    "Inbound Call": 8,
    "Customer Referral": 6,
}
DEAL_NAMES = {
    "New Business": ("Platform", "Team plan", "Enterprise plan", "Pilot"),
    "Expansion": ("Seat expansion", "Analytics add-on", "Upgrade to Enterprise", "New business unit"),
}


@dataclass(eq=False)  # each account is itself: compared and hashed by identity
class DemoAccount:
    company: Company
    owner: str  # the account executive's name, as the CRM's owner field exports it
    parent: DemoAccount | None = None
    crm_id: str = ""  # numbered once creation dates are known, in creation order as the CRM would
    created_on: date | None = None
    is_customer: bool = False


@dataclass(frozen=True)
class PartnerInvolvement:
    """Which partner sourced the deal and how, and which partners worked on it."""

    source: DemoPartner | None = None
    source_kind: TouchKind | None = None
    influencers: tuple[DemoPartner, ...] = ()

    @property
    def motion(self) -> str:
        return "sourced" if self.source else "influenced" if self.influencers else "direct"


@dataclass
class SimulatedOpportunity:
    crm_id: str
    account: DemoAccount
    name: str
    opportunity_type: str
    lead_source: str
    amount: Decimal
    created_on: date
    close_date: date
    involvement: PartnerInvolvement
    partner_source: str
    history: list[tuple[date, str, Decimal]] = field(default_factory=list)  # up to as-of, oldest first

    @property
    def stage(self) -> str:
        return self.history[-1][1]

    @property
    def is_closed(self) -> bool:
        return self.stage in (CLOSED_WON, CLOSED_LOST)

    @property
    def is_won(self) -> bool:
        return self.stage == CLOSED_WON


def simulate_accounts(
    rng: random.Random, companies: CompanyGenerator, count: int, executives: dict[str, tuple[str, ...]]
) -> list[DemoAccount]:
    """`count` accounts, a few of them subsidiaries abroad of larger ones, owned by their region's sellers."""

    def account(company: Company, parent: DemoAccount | None = None) -> DemoAccount:
        return DemoAccount(company, rng.choice(executives[company.country.region]), parent)

    planned_subsidiaries = round(count * SUBSIDIARY_SHARE)
    accounts = [account(companies.company()) for _ in range(count - planned_subsidiaries)]
    parents = [a for a in accounts if a.company.segment != Segment.SMB and a.company.domain]
    for parent in rng.sample(parents, min(planned_subsidiaries, len(parents))):
        abroad = [code for code in SUBSIDIARY_LABELS if code != parent.company.country.code]
        accounts.append(
            account(companies.subsidiary(parent.company, COUNTRY_BY_CODE[rng.choice(abroad)]), parent)
        )
    accounts += [account(companies.company()) for _ in range(count - len(accounts))]
    return accounts


def _growing_day(rng: random.Random, first: date) -> date:
    """A day in the two years from `first`, more likely later: the company grows ~60% over the period."""
    growth, u = 0.6, rng.random()
    share = (-1 + (1 + growth * (2 + growth) * u) ** 0.5) / growth  # inverse CDF of a density ∝ 1 + growth·x
    return first + timedelta(days=min(int(share * HISTORY_DAYS), HISTORY_DAYS - 1))


def _walk(rng: random.Random, stages: list[str], days: int) -> list[tuple[int, str]]:
    """Stages entered on distinct days: the first on day 0, the last on day `days`."""
    middle = sorted(rng.sample(range(1, days), len(stages) - 2))
    return list(zip([0, *middle, days], stages, strict=True))


def _funnel(rng: random.Random, *, won: bool, median_days: float) -> list[tuple[int, str]]:
    """The stages one deal passes through, with the day each is entered counted from its creation."""
    if won:
        stages = [s for s in OPEN_STAGES if s not in ("Needs Analysis", "Proposal") or rng.random() > 0.08]
        days = min(max(round(median_days * rng.lognormvariate(0, 0.35)), 30), 180)
        return _walk(rng, [*stages, CLOSED_WON], days)
    lost_in = rng.choices(range(len(OPEN_STAGES)), LOSS_STAGE_WEIGHTS)[0]
    days = min(max(round(median_days * rng.lognormvariate(0, 0.5) * (0.35 + 0.2 * lost_in)), 7), 240)
    walked = _walk(rng, [*OPEN_STAGES[: lost_in + 1], CLOSED_LOST], days)
    if rng.random() < REOPEN_SHARE:  # the customer came back: reopened, and decided a second time
        restart = days + rng.randint(20, 90)
        outcome = CLOSED_WON if rng.random() < 0.35 else CLOSED_LOST
        second = _walk(rng, ["Qualification", "Proposal", "Negotiation", outcome], rng.randint(30, 100))
        walked += [(restart + day, stage) for day, stage in second]
    return walked


def _influencer(rng: random.Random, partners: list[DemoPartner], day: date) -> DemoPartner | None:
    return choose_partner(rng, partners, day, stage_weights=WORKING_STAGES, type_weights=INFLUENCE_TYPES)


def _sourced(rng: random.Random, partners: list[DemoPartner], day: date) -> PartnerInvolvement | None:
    """A partner-sourced deal: who brought it, the evidence, who else worked it; None if no partner could."""
    source = choose_partner(rng, partners, day, stage_weights=SOURCING_STAGES, type_weights=SOURCING_TYPES)
    if source is None:
        return None
    if rng.random() < CRM_FIELD_ONLY_SHARE:
        kind = TouchKind.CRM_SOURCE
    elif source.partner_type in REGISTERING_TYPES:
        kind = TouchKind.DEAL_REGISTRATION
    else:
        kind = TouchKind.REFERRAL
    draw = rng.random()
    if draw < 0.3:  # the source stays on the deal and co-sells it
        return PartnerInvolvement(source, kind, (source,))
    other = _influencer(rng, partners, day) if draw < 0.42 else None
    return PartnerInvolvement(source, kind, (other,) if other is not None and other.id != source.id else ())


def _involvement(
    rng: random.Random, partners: list[DemoPartner], day: date, expansion: bool
) -> PartnerInvolvement:
    if rng.random() < (SOURCED_EXPANSION_SHARE if expansion else SOURCED_SHARE):
        sourced = _sourced(rng, partners, day)
        if sourced is not None:
            return sourced
    if rng.random() < INFLUENCED_SHARE:
        drawn = [_influencer(rng, partners, day) for _ in range(1 if rng.random() < 0.75 else 2)]
        return PartnerInvolvement(influencers=tuple(dict.fromkeys(p for p in drawn if p is not None)))
    return PartnerInvolvement()


def simulate_opportunities(
    rng: random.Random, accounts: list[DemoAccount], partners: list[DemoPartner], as_of: date
) -> list[SimulatedOpportunity]:
    """Opportunities created over the two years before `as_of`, with their stage history up to it."""
    count = round(len(accounts) * OPPORTUNITIES_PER_ACCOUNT)
    first_day = as_of - timedelta(days=HISTORY_DAYS)
    days = sorted(_growing_day(rng, first_day) for _ in range(count))
    weights = [SEGMENT_DEALS[a.company.segment].account_weight for a in accounts]
    picked = rng.choices(range(len(accounts)), weights, k=count)
    first_win: dict[int, date] = {}
    opportunities = []
    for number, (created, index) in enumerate(zip(days, picked, strict=True)):
        account = accounts[index]
        expansion = index in first_win and first_win[index] < created
        involvement = _involvement(rng, partners, created, expansion)
        motion = MOTIONS[involvement.motion]
        deal = SEGMENT_DEALS[account.company.segment]
        won = rng.random() < motion.win_rate + deal.win_rate_adjustment + (0.15 if expansion else 0.0)
        raw_amount = deal.median_amount * motion.amount_factor * rng.lognormvariate(0, 0.55)
        amount = Decimal(max(1000, round(raw_amount * (0.45 if expansion else 1.0), -2)))
        estimate = Decimal(max(1000, round(float(amount) * rng.uniform(0.7, 1.3), -3)))
        funnel = _funnel(rng, won=won, median_days=deal.median_days_to_win * motion.cycle_factor)
        dated = [(created + timedelta(days=day), stage) for day, stage in funnel]
        history = [
            (on, stage, estimate if stage in ESTIMATE_STAGES else amount)
            for on, stage in dated
            if on <= as_of
        ]
        kind = "Expansion" if expansion else "New Business"
        opportunity = SimulatedOpportunity(
            crm_id=crm_ids.salesforce_id(crm_ids.OPPORTUNITY, number + 1),
            account=account,
            name=f"{account.company.brand} - {rng.choice(DEAL_NAMES[kind])}",
            opportunity_type=kind,
            lead_source=_lead_source(rng, involvement, expansion),
            amount=amount,
            created_on=created,
            # Closed deals carry the day they closed; open ones the day they are expected to.
            close_date=history[-1][0] if history[-1][1] in (CLOSED_WON, CLOSED_LOST) else dated[-1][0],
            involvement=involvement,
            partner_source=_partner_source(rng, involvement),
            history=history,
        )
        if opportunity.is_won:
            first_win[index] = min(first_win.get(index, opportunity.close_date), opportunity.close_date)
            account.is_customer = True
        opportunities.append(opportunity)
    return opportunities


def _lead_source(rng: random.Random, involvement: PartnerInvolvement, expansion: bool) -> str:
    if involvement.source is not None:
        return "Partner"
    if expansion:
        return "Existing Customer"
    return rng.choices(list(LEAD_SOURCES), list(LEAD_SOURCES.values()))[0]


def _partner_source(rng: random.Random, involvement: PartnerInvolvement) -> str:
    """The CRM's partner-source field: always set when it is the only evidence, else by some reps only."""
    source = involvement.source
    if source is None or (involvement.source_kind != TouchKind.CRM_SOURCE and rng.random() >= 0.45):
        return ""
    # A Salesforce lookup exports the partner account's id; some exports resolve it to the name.
    return source.crm_id if rng.random() < 0.8 else source.name


def number_accounts(
    rng: random.Random, accounts: list[DemoAccount], opportunities: list[SimulatedOpportunity], as_of: date
) -> None:
    """Date each account's creation (before its first deal) and number the accounts in that order."""
    first_deal: dict[DemoAccount, date] = {}
    for opportunity in opportunities:
        first_deal.setdefault(opportunity.account, opportunity.created_on)
    for account in accounts:
        if account in first_deal:
            account.created_on = first_deal[account] - timedelta(days=rng.randint(0, 400))
        else:
            account.created_on = as_of - timedelta(days=rng.randint(30, 5 * 365))
    accounts.sort(key=lambda a: a.created_on or as_of)
    for number, account in enumerate(accounts, start=1):
        account.crm_id = crm_ids.salesforce_id(crm_ids.ACCOUNT, number)


def account_rows(accounts: list[DemoAccount]) -> list[dict[str, Any]]:
    return [
        {
            "crm_id": a.crm_id,
            "name": a.company.name,
            "website": a.company.website,
            "domain": a.company.domain,
            "country": a.company.country.name,
            "industry": a.company.industry,
            "account_type": "Customer" if a.is_customer else "Prospect",
            "owner": a.owner,
            "parent_crm_id": a.parent.crm_id if a.parent else "",
            "employees": a.company.employees,
            "created_on": a.created_on,
        }
        for a in accounts
    ]


def opportunity_rows(opportunities: list[SimulatedOpportunity], currency: str) -> list[dict[str, Any]]:
    return [
        {
            "crm_id": o.crm_id,
            "account_crm_id": o.account.crm_id,
            "name": o.name,
            "stage": o.stage,
            "amount": o.amount,
            "currency": currency,
            "original_amount": o.amount,
            "created_on": o.created_on,
            "close_date": o.close_date,
            "is_closed": o.is_closed,
            "is_won": o.is_won,
            "owner": o.account.owner,
            "opportunity_type": o.opportunity_type,
            "lead_source": o.lead_source,
            "partner_source": o.partner_source,
        }
        for o in opportunities
    ]


def stage_change_rows(opportunities: list[SimulatedOpportunity]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for o in opportunities:
        for on, stage, amount in o.history:
            rows.append(
                {
                    "crm_id": crm_ids.salesforce_id(crm_ids.OPPORTUNITY_HISTORY, len(rows) + 1),
                    "opportunity_crm_id": o.crm_id,
                    "stage": stage,
                    "changed_on": on,
                    "amount": amount,
                    "is_closed": stage in (CLOSED_WON, CLOSED_LOST),
                    "is_won": stage == CLOSED_WON,
                }
            )
    return rows
