"""The demo partner program: programs and tiers, ~40 partners of every type, each with a dated life cycle.

Everything is created through the partners service, so every history obeys its rules.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import Session

from ecoops.actors import Actor
from ecoops.demo import crm_ids
from ecoops.demo.companies import COUNTRIES, STEMS, TAILS, CompanyGenerator, Country, slug_words
from ecoops.demo.people import COMPANY_NAME
from ecoops.partners import service as partners
from ecoops.partners.models import Membership, PartnerType, Program, Stage
from ecoops.partners.tier_terms import CriterionInput, TierTerms, set_tier_terms

# (name, tiers entry level first, description, the partner types it enrols)
PROGRAMS: tuple[tuple[str, list[str], str, frozenset[PartnerType]], ...] = (
    (
        "Technology Alliance",
        ["Registered", "Silver", "Gold"],
        "Software vendors with an integration, and the marketplaces that list us.",
        frozenset({PartnerType.TECHNOLOGY, PartnerType.MARKETPLACE}),
    ),
    (
        "Reseller",
        ["Authorized", "Premier"],
        "Partners who resell and implement our platform.",
        frozenset({PartnerType.RESELLER, PartnerType.SYSTEMS_INTEGRATOR}),
    ),
    (
        "Referral",
        [],
        "Partners paid a fee for business they refer.",
        frozenset({PartnerType.REFERRAL, PartnerType.AFFILIATE, PartnerType.AGENCY}),
    ),
)
# Each tier's criteria and benefits, by (program, tier). Tiers are placed by life-cycle stage below, not by
# these figures, so the first evaluation finds partners to move both ways (docs/demo.md "Partner program").
TIER_TERMS: dict[tuple[str, str], TierTerms] = {
    ("Technology Alliance", "Registered"): TierTerms(
        registration_days=60, commission_class="T1", portal_content="Integration guide: /docs/integrations"
    ),
    ("Technology Alliance", "Silver"): TierTerms(
        registration_days=90,
        commission_class="T2",
        portal_content="Co-marketing kit and the joint solution brief template.",
        criteria=[CriterionInput("won_deals", 2), CriterionInput("sourced_revenue", "20000")],
    ),
    ("Technology Alliance", "Gold"): TierTerms(
        registration_days=120,
        commission_class="T3",
        mdf_eligible=True,
        portal_content="Market development funds: apply each quarter. Roadmap briefings.",
        criteria=[CriterionInput("won_deals", 5), CriterionInput("sourced_revenue", "100000")],
    ),
    ("Reseller", "Authorized"): TierTerms(registration_days=90, commission_class="R1"),
    ("Reseller", "Premier"): TierTerms(
        registration_days=180,
        commission_class="R2",
        mdf_eligible=True,
        portal_content="Premier price list and the deal desk's direct line.",
        criteria=[CriterionInput("sourced_revenue", "50000"), CriterionInput("won_deals", 3)],
    ),
}
PARTNERS_PER_TYPE: dict[PartnerType, int] = {
    PartnerType.TECHNOLOGY: 12,
    PartnerType.RESELLER: 7,
    PartnerType.SYSTEMS_INTEGRATOR: 5,
    PartnerType.REFERRAL: 5,
    PartnerType.AGENCY: 4,
    PartnerType.AFFILIATE: 4,
    PartnerType.MARKETPLACE: 3,
}
CURRENT_STAGES: dict[Stage, int] = {
    Stage.PROSPECT: 4,
    Stage.RECRUITING: 4,
    Stage.SIGNED: 2,
    Stage.ONBOARDING: 4,
    Stage.ACTIVE: 10,
    Stage.PRODUCING: 12,
    Stage.CHURNED: 4,
}
# Name patterns per type; {brand} is an invented word, {surname} a real surname.
NAME_PATTERNS: dict[PartnerType, tuple[str, ...]] = {
    PartnerType.TECHNOLOGY: (
        "{brand}",
        "{brand} Analytics",
        "{brand} Data",
        "{brand} Security",
        "{brand} HR",
    ),
    PartnerType.RESELLER: ("{brand} Distribution", "{surname} IT Solutions", "{brand} Technologies"),
    PartnerType.SYSTEMS_INTEGRATOR: ("{surname} Consulting Group", "{brand} Systems Integration"),
    PartnerType.REFERRAL: ("{surname} Advisors", "{surname} & {other} Partners", "{brand} Ventures"),
    PartnerType.AGENCY: ("{brand} Digital", "{brand} Creative", "{surname} Growth Agency"),
    PartnerType.AFFILIATE: ("{brand} Media", "{surname} Reviews", "{brand} Insider"),
    PartnerType.MARKETPLACE: ("{brand} Cloud Marketplace", "{brand} App Exchange"),
}
DESCRIPTIONS: dict[PartnerType, str] = {
    PartnerType.TECHNOLOGY: "Integration partner: a two-way connector between {name} and "
    + COMPANY_NAME
    + ".",
    PartnerType.RESELLER: "Resells "
    + COMPANY_NAME
    + " licences to its customers and runs first-line support.",
    PartnerType.SYSTEMS_INTEGRATOR: "Implements "
    + COMPANY_NAME
    + " in larger roll-outs and data migrations.",
    PartnerType.REFERRAL: "Introduces companies it advises and earns a referral fee.",
    PartnerType.AGENCY: "Builds campaigns and sites for its clients and recommends " + COMPANY_NAME + ".",
    PartnerType.AFFILIATE: "Publishes reviews and tutorials with tracked links.",
    PartnerType.MARKETPLACE: "Cloud marketplace listing "
    + COMPANY_NAME
    + "; customers buy on their cloud bill.",
}
FORWARD = (Stage.PROSPECT, Stage.RECRUITING, Stage.SIGNED, Stage.ONBOARDING, Stage.ACTIVE, Stage.PRODUCING)
# Days in a stage: (fewest, most) before moving on, then (fewest, most) so far when it is today's stage.
DWELL: dict[Stage, tuple[tuple[int, int], tuple[int, int]]] = {
    Stage.PROSPECT: ((15, 90), (5, 120)),
    Stage.RECRUITING: ((20, 120), (5, 90)),
    Stage.SIGNED: ((3, 21), (3, 20)),
    Stage.ONBOARDING: ((30, 90), (5, 60)),
    Stage.ACTIVE: ((45, 300), (30, 600)),
    Stage.PRODUCING: ((90, 400), (60, 720)),
    Stage.CHURNED: ((90, 240), (10, 400)),
}
SIGNED_STAGES = frozenset({Stage.SIGNED, Stage.ONBOARDING, Stage.ACTIVE, Stage.PRODUCING})
# How likely a partner in each stage is to be working on a deal (as a stage weight for choose_partner).
WORKING_STAGES = {Stage.ONBOARDING: 0.5, Stage.ACTIVE: 2.0, Stage.PRODUCING: 3.0}


@dataclass(frozen=True)
class DemoPartner:
    """What the CRM simulation and the partner lists need to know about a stored partner."""

    id: int
    name: str
    crm_id: str
    partner_type: PartnerType
    owner_id: int
    domain: str
    history: tuple[tuple[date, Stage], ...]  # (since, stage), oldest first

    def stage_on(self, day: date) -> Stage | None:
        """The partner's stage on `day`, None before its history begins."""
        position = bisect.bisect_right([since for since, _ in self.history], day)
        return self.history[position - 1][1] if position else None

    @property
    def stage(self) -> Stage:
        return self.history[-1][1]


def choose_partner(
    rng: random.Random,
    candidates: list[DemoPartner],
    day: date,
    *,
    stage_weights: dict[Stage, float],
    type_weights: dict[PartnerType, float],
) -> DemoPartner | None:
    """A partner drawn by its stage on `day` and its type (unlisted ones weigh nothing); None if none fits."""
    weights = []
    for partner in candidates:
        stage = partner.stage_on(day)
        fit = stage_weights.get(stage, 0.0) if stage else 0.0
        weights.append(fit * type_weights.get(partner.partner_type, 0.0))
    if not any(weights):
        return None
    return rng.choices(candidates, weights)[0]


def _stage_path(current: Stage, rng: random.Random, *, resigned: bool) -> list[Stage]:
    """The stages a partner went through to reach `current`, in order."""
    start = 0 if current == Stage.PROSPECT or rng.random() < 0.7 else 1
    if current == Stage.CHURNED:
        peak = rng.choice((Stage.ONBOARDING, Stage.ACTIVE, Stage.ACTIVE, Stage.PRODUCING))
        return [*FORWARD[start : FORWARD.index(peak) + 1], Stage.CHURNED]
    path = list(FORWARD[start : FORWARD.index(current) + 1])
    if resigned:  # churned once, came back, and is working its way up again
        path[-1:-1] = [Stage.ACTIVE, Stage.CHURNED, Stage.SIGNED, Stage.ONBOARDING]
    return path


def _dated(path: list[Stage], rng: random.Random, as_of: date) -> list[tuple[date, Stage]]:
    dwell = [rng.randint(*DWELL[stage][0]) for stage in path[:-1]] + [rng.randint(*DWELL[path[-1]][1])]
    day = as_of - timedelta(days=sum(dwell))
    dated = []
    for stage, days in zip(path, dwell, strict=True):
        dated.append((day, stage))
        day += timedelta(days=days)
    return dated


def _tier_rank(history: list[tuple[date, Stage]], tier_count: int, rng: random.Random) -> int:
    """Producing partners sit at the top tiers, active ones in the middle, newcomers at the entry level."""
    peak = max(FORWARD.index(stage) for _, stage in history if stage in FORWARD)
    if peak == FORWARD.index(Stage.PRODUCING):
        rank = tier_count - 1 if rng.random() < 0.6 else tier_count - 2
    else:
        rank = 1 if peak == FORWARD.index(Stage.ACTIVE) else 0
    return max(0, min(rank, tier_count - 1))


def _partner_name(partner_type: PartnerType, rng: random.Random, surnames: Sequence[str]) -> str:
    return rng.choice(NAME_PATTERNS[partner_type]).format(
        brand=rng.choice(STEMS) + rng.choice(TAILS),
        surname=rng.choice(surnames),
        other=rng.choice(surnames),
    )


def _roster(rng: random.Random) -> list[tuple[PartnerType, Stage, bool]]:
    """Each partner's type, current stage, and whether it churned and re-signed on its way there."""
    # Each type gets one established partner first, so that every kind of touch has partners to come from.
    others = [t for t, count in PARTNERS_PER_TYPE.items() for _ in range(count - 1)]
    rng.shuffle(others)
    stages = [s for s, count in CURRENT_STAGES.items() for _ in range(count)]
    rng.shuffle(stages)
    stages.sort(key=lambda stage: stage not in (Stage.ACTIVE, Stage.PRODUCING))  # stable: still shuffled
    roster = list(zip([*PARTNERS_PER_TYPE, *others], stages, strict=True))
    rng.shuffle(roster)
    resigned = next(i for i, (_, stage) in enumerate(roster) if stage == Stage.ACTIVE)
    return [(partner_type, stage, i == resigned) for i, (partner_type, stage) in enumerate(roster)]


def _identity(
    rng: random.Random, companies: CompanyGenerator, partner_type: PartnerType, taken: set[str]
) -> tuple[str, Country, list[str]]:
    """A new partner's name, country and domains."""
    country = rng.choices(COUNTRIES[:5], (70, 10, 10, 5, 5))[0]
    name = _partner_name(partner_type, rng, companies.surnames[country.locale])
    while name in taken:
        name = _partner_name(partner_type, rng, companies.surnames[country.locale])
    taken.add(name)
    industry = "Software" if partner_type == PartnerType.TECHNOLOGY else "Professional Services"
    domains = [companies.domain_for(name, country, industry)]
    if rng.random() < 0.25:  # a second domain: a regional site or an older brand
        label = "".join(slug_words(name))
        domains.append(companies.claim_domain([f"{label}.{'io' if country.code == 'US' else country.tld}"]))
    return name, country, domains


def create_program(
    session: Session,
    actor: Actor,
    *,
    rng: random.Random,
    companies: CompanyGenerator,
    partner_manager_ids: tuple[int, ...],
    as_of: date,
) -> list[DemoPartner]:
    """Create the programs and partners with their histories; the partners, in creation order."""
    programs: dict[PartnerType, Program] = {}
    for name, tiers, description, types in PROGRAMS:
        program = partners.create_program(session, actor, name=name, tiers=tiers, description=description)
        for level in program.tiers:
            set_tier_terms(session, actor, level, TIER_TERMS[name, level.name])
        programs |= dict.fromkeys(types, program)
    names: set[str] = set()
    created: list[DemoPartner] = []
    for index, (partner_type, current, resigned) in enumerate(_roster(rng)):
        name, country, domains = _identity(rng, companies, partner_type, names)
        history = _dated(_stage_path(current, rng, resigned=resigned), rng, as_of)
        owner_id = partner_manager_ids[index % len(partner_manager_ids)]
        partner = partners.create_partner(
            session,
            actor,
            name=name,
            partner_type=partner_type,
            stage=history[0][1],
            stage_since=history[0][0],
            website=f"https://www.{domains[0]}",
            domains=domains,
            country=country.code,
            owner_id=owner_id,
            crm_id=crm_ids.salesforce_id(crm_ids.ACCOUNT, 1_000_000 + index),
            description=DESCRIPTIONS[partner_type].format(name=name),
        )
        for on, stage in history[1:]:
            partners.change_stage(session, actor, partner, to=stage, on=on, today=as_of)
        signed_on = next((on for on, stage in history if stage == Stage.SIGNED), None)
        if signed_on is not None:
            program = programs[partner_type]
            tier = program.tiers[_tier_rank(history, len(program.tiers), rng)] if program.tiers else None
            partner.memberships.append(
                Membership(program_id=program.id, tier_id=tier.id if tier else None, joined_on=signed_on)
            )
        created.append(
            DemoPartner(
                partner.id, name, partner.crm_id or "", partner_type, owner_id, domains[0], tuple(history)
            )
        )
    session.flush()
    return created
