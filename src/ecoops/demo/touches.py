"""Partner touches for the simulated deals: the evidence behind each partner's part, dated as it happens.

Sourcing touches fall at or just after the deal's creation, influence while it is open, delivery after
it is won. Referrals and deal registrations are touches with `evidence_type="referral"` until the
referrals domain exists (docs/demo.md).
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from ecoops.attribution.models import TouchKind
from ecoops.demo.companies import slug_words
from ecoops.demo.crm_history import SimulatedOpportunity
from ecoops.demo.program import SIGNED_STAGES, WORKING_STAGES, DemoPartner, choose_partner
from ecoops.partners.models import PartnerType

RECORDED_BY = "ecoops demo"
CO_SELL_NOTES = (
    "Joint discovery call with the partner's account team",
    "Partner rep assigned to the opportunity",
    "Warm intro to the economic buyer",
    "Joint demo of the integration",
    "Partner shared the customer's tech stack and priorities",
)
CONTENT_ASSETS = ("integration-guide", "better-together-one-pager", "joint-case-study")
DELIVERY_TYPES = {PartnerType.SYSTEMS_INTEGRATOR: 3.0, PartnerType.AGENCY: 1.0, PartnerType.RESELLER: 1.0}
REGISTRATION_TYPES = {PartnerType.RESELLER: 2.0, PartnerType.SYSTEMS_INTEGRATOR: 1.0}
DELIVERY_SHARE = 0.25
MARKETPLACE_SHARE = 0.06
LATE_REGISTRATION_SHARE = 0.015


class TouchLog:
    """Collects touch rows; numbers the referrals and marketplace orders they cite."""

    def __init__(self, rng: random.Random, as_of: date) -> None:
        self.rng = rng
        self.as_of = as_of
        self.rows: list[dict[str, Any]] = []
        self.referrals = 0
        self.orders = 0

    def add(
        self,
        opportunity: SimulatedOpportunity,
        partner: DemoPartner,
        kind: TouchKind,
        on: date,
        evidence: tuple[str, str],
        note: str,
        status: str = "confirmed",
    ) -> None:
        self.rows.append(
            {
                "partner_id": partner.id,
                "opportunity_crm_id": opportunity.crm_id,
                "account_crm_id": opportunity.account.crm_id,
                "kind": kind.value,
                "touched_on": on,
                "evidence_type": evidence[0],
                "evidence_ref": evidence[1],
                "note": note,
                "status": status,
                "recorded_by": RECORDED_BY,
                # Logged the day it happened, so the touch log reads the same for any past as-of date.
                "recorded_at": datetime.combine(on, time(12), tzinfo=UTC),
            }
        )

    def referral_ref(self) -> tuple[str, str]:
        self.referrals += 1
        return "referral", f"REF-{self.referrals:05d}"

    def order_ref(self) -> tuple[str, str]:
        self.orders += 1
        return "marketplace_order", f"MPO-{self.orders:06d}"


def _day_between(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, (last - first).days))


def _sourcing(log: TouchLog, opportunity: SimulatedOpportunity) -> None:
    involvement, rng = opportunity.involvement, log.rng
    source, created = involvement.source, opportunity.created_on
    if source is None:
        return
    if involvement.source_kind == TouchKind.REFERRAL:
        referred = created - timedelta(days=rng.randint(0, 14))
        if source.stage_on(referred) not in SIGNED_STAGES:  # it cannot refer before it signed
            referred = created
        log.add(opportunity, source, TouchKind.REFERRAL, referred, log.referral_ref(), "Referral accepted")
    elif involvement.source_kind == TouchKind.DEAL_REGISTRATION:
        registered = min(created + timedelta(days=rng.randint(0, 5)), log.as_of)
        log.add(
            opportunity,
            source,
            TouchKind.DEAL_REGISTRATION,
            registered,
            log.referral_ref(),
            "Deal registration approved",
        )
    if opportunity.partner_source:
        log.add(
            opportunity,
            source,
            TouchKind.CRM_SOURCE,
            created,
            ("crm_field", "Partner__c"),
            f"Partner source: {opportunity.partner_source}",
        )


def _influence(log: TouchLog, opportunity: SimulatedOpportunity) -> None:
    rng = log.rng
    last_day = opportunity.close_date if opportunity.is_closed else log.as_of
    for partner in opportunity.involvement.influencers:
        on = _day_between(rng, opportunity.created_on, last_day)
        if partner.partner_type == PartnerType.AFFILIATE or (
            partner.partner_type == PartnerType.TECHNOLOGY and rng.random() < 0.5
        ):
            asset = rng.choice(CONTENT_ASSETS)
            slug = "-".join(slug_words(partner.name))
            log.add(
                opportunity,
                partner,
                TouchKind.CONTENT,
                on,
                ("content", f"{slug}-{asset}"),
                f"Shared the {asset.replace('-', ' ')}",
            )
        else:
            log.add(
                opportunity,
                partner,
                TouchKind.CO_SELL,
                on,
                ("user", str(partner.owner_id)),
                rng.choice(CO_SELL_NOTES),
                "proposed" if rng.random() < 0.08 else "confirmed",
            )


def _at_and_after_close(
    log: TouchLog, opportunity: SimulatedOpportunity, partners: list[DemoPartner]
) -> None:
    """Won deals bought through a cloud marketplace, and partners who deliver after the sale."""
    rng, closed = log.rng, opportunity.close_date
    if not opportunity.is_won:
        return
    if rng.random() < MARKETPLACE_SHARE:
        marketplace = choose_partner(
            rng, partners, closed, stage_weights=WORKING_STAGES, type_weights={PartnerType.MARKETPLACE: 1.0}
        )
        if marketplace is not None:
            log.add(
                opportunity,
                marketplace,
                TouchKind.MARKETPLACE,
                closed,
                log.order_ref(),
                "Bought as a private offer",
            )
    if rng.random() < DELIVERY_SHARE:
        start = closed + timedelta(days=rng.randint(7, 45))
        partner = choose_partner(
            rng, partners, closed, stage_weights=WORKING_STAGES, type_weights=DELIVERY_TYPES
        )
        if partner is not None and start <= log.as_of:
            log.add(
                opportunity,
                partner,
                TouchKind.DELIVERY,
                start,
                ("user", str(partner.owner_id)),
                "Implementation",
            )


def _late_registration(log: TouchLog, opportunity: SimulatedOpportunity, partners: list[DemoPartner]) -> None:
    """Now and then a partner registers a deal we were already working: too late to count as sourcing."""
    rng = log.rng
    involvement = opportunity.involvement
    if involvement.motion == "direct" and rng.random() < LATE_REGISTRATION_SHARE:
        registered = opportunity.created_on + timedelta(days=rng.randint(15, 60))
        last_day = opportunity.close_date if opportunity.is_closed else log.as_of
        partner = choose_partner(
            rng,
            partners,
            opportunity.created_on,
            stage_weights=WORKING_STAGES,
            type_weights=REGISTRATION_TYPES,
        )
        if partner is not None and registered <= last_day:
            log.add(
                opportunity,
                partner,
                TouchKind.DEAL_REGISTRATION,
                registered,
                log.referral_ref(),
                "Registered after the opportunity was created; sourcing disputed",
                "disputed",
            )


def simulate_touches(
    rng: random.Random, opportunities: list[SimulatedOpportunity], partners: list[DemoPartner], as_of: date
) -> TouchLog:
    """Every touch of every simulated deal, in deal order."""
    log = TouchLog(rng, as_of)
    for opportunity in opportunities:
        _sourcing(log, opportunity)
        _influence(log, opportunity)
        _at_and_after_close(log, opportunity, partners)
        _late_registration(log, opportunity, partners)
    return log
