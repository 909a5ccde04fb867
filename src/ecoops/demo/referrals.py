"""Referrals and deal registrations for the demo, made through the referrals services and dated in the past.

Partners send leads and register deals (from the portal when they have a portal user, else entered by a
partner manager); partner managers approve them (the lead goes to sales with its opportunity and the
partner's touch) or reject them; a few wait for review, some of those past the SLA; some approved leads'
new opportunities are won or lost since. Our partner managers refer customers out; partners accept or
decline. The services stamp the clock's time, so each referral is then dated on its simulated day: the
same seed and as-of date give the same rows, and the EQL funnel and give-and-get count them in the right
periods.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.accounts.models import PartnerUser, User
from ecoops.accounts.service import InvalidInput, partner_user_actor, user_actor
from ecoops.actors import Actor, Role
from ecoops.config import Settings, get_settings
from ecoops.crm.models import Account, Opportunity, OpportunityStageChange
from ecoops.demo.companies import CompanyGenerator, surname_pools
from ecoops.demo.program import SIGNED_STAGES
from ecoops.partners.models import Partner, PartnerStageChange, PartnerType
from ecoops.referrals import outbound, review, submission
from ecoops.referrals.models import Kind, Referral, Via

# Few, because each costs a fraction of a second: the services match its company against our accounts.
INBOUND = 26
OUTBOUND = 8
SPAN_DAYS = 300  # referrals of the last ten months or so
NEW_LOGO_SHARE = 0.35  # leads for companies not in our CRM yet
REGISTERING_TYPES = (PartnerType.RESELLER, PartnerType.SYSTEMS_INTEGRATOR)
CONTACTS = ("Jordan Reyes", "Sam Keller", "Priya Natarajan", "Lena Hoffmann", "Tomás Silva", "Mia Laurent")
REJECTIONS = (
    "Already in an active sales cycle with us",
    "Outside our target segment",
    "Not enough detail to act on; please resubmit with a named contact",
)


@dataclass(frozen=True)
class _Company:
    name: str
    domain: str
    country: str  # a name or ISO code; the service turns it into a code


@dataclass(frozen=True)
class _Partner:
    id: int
    partner_type: str
    history: tuple[tuple[date, str], ...]  # (since, stage), oldest first

    def signed_on(self, day: date) -> bool:
        stages = [stage for since, stage in self.history if since <= day]
        return bool(stages) and stages[-1] in SIGNED_STAGES


class _OnTheDay(Settings):
    """The workspace settings with a simulated day as today, for services that date what they create."""

    day: date

    def today(self) -> date:
        return self.day


def on_the_day(settings: Settings, day: date) -> Settings:
    return _OnTheDay.model_construct(**settings.model_dump(), day=day)


def moment_on(rng: random.Random, day: date) -> datetime:
    return datetime.combine(day, time(rng.randint(8, 17), rng.randint(0, 59)), UTC)


def redate(
    referral: Referral, settings: Settings, submitted: datetime, decided: datetime | None = None
) -> None:
    """Put the referral and its history on the simulated days (the services stamped the clock's time)."""
    referral.submitted_at = submitted
    if referral.sla_due_at is not None:
        referral.sla_due_at = submitted + timedelta(hours=settings.referral_sla_hours)
    referral.decided_at = decided if referral.decided_at is not None else None
    for n, change in enumerate(referral.history):
        change.changed_at = submitted if n == 0 or decided is None else decided


@dataclass
class _Seeder:
    session: Session
    rng: random.Random
    settings: Settings
    as_of: date
    reviewers: list[Actor]
    portal: dict[int, Actor]  # partner id → its portal admin

    def referral_input(self, kind: Kind, company: _Company, value: int) -> submission.ReferralInput:
        contact = self.rng.choice(CONTACTS)
        first, last = contact.lower().replace("á", "a").split()
        return submission.ReferralInput(
            kind=kind.value,
            company=company.name,
            domain=company.domain,
            country=company.country,
            contact_name=contact,
            contact_email=f"{first}.{last}@{company.domain}" if company.domain else "",
            estimated_value=str(value),
            notes="Budget approved for this year" if self.rng.random() < 0.5 else "",
        )

    def redate(self, referral: Referral, submitted: datetime, decided: datetime | None = None) -> None:
        redate(referral, self.settings, submitted, decided)

    def inbound(self, partner: _Partner, day: date, company: _Company, kind: Kind) -> None:
        rng = self.rng
        actor = self.portal.get(partner.id) or rng.choice(self.reviewers)
        submitted = moment_on(rng, day)
        referral = submission.submit(
            self.session,
            actor,
            self.referral_input(kind, company, rng.randrange(8, 150) * 1000),
            settings=on_the_day(self.settings, day),
            via=Via.PORTAL if partner.id in self.portal else Via.INTERNAL,
            partner_id=partner.id,
        )
        self.redate(referral, submitted)  # before a review: the partner's touch dates from the submission
        age = (self.as_of - day).days
        # The last two days' wait within the SLA; many of the last three weeks' are overdue.
        if age <= 2 or (age <= 21 and rng.random() < 0.6):
            return
        decided_on = min(day + timedelta(days=rng.randint(0, 3)), self.as_of)
        reviewer = rng.choice(self.reviewers)
        if rng.random() < 0.7:
            try:
                review.approve(
                    self.session, reviewer, referral.id, settings=on_the_day(self.settings, decided_on)
                )
                self.later_outcome(referral, decided_on)
            except InvalidInput:  # another partner holds a registration for it: first come, first served
                review.reject(self.session, reviewer, referral.id, "Registered by another partner first")
        else:
            review.reject(self.session, reviewer, referral.id, rng.choice(REJECTIONS))
        self.redate(referral, submitted, moment_on(rng, decided_on))

    def later_outcome(self, referral: Referral, decided_on: date) -> None:
        """An opportunity opened for an approved lead was since won or lost, or is still being worked."""
        opportunity = self.session.scalar(
            select(Opportunity).where(Opportunity.crm_id == referral.opportunity_crm_id)
        )
        rng = self.rng
        if opportunity is None or not opportunity.crm_id.startswith("ecoops-referral-"):
            return
        self.session.add(
            OpportunityStageChange(
                opportunity_crm_id=opportunity.crm_id, stage=opportunity.stage, changed_on=decided_on
            )
        )
        closed_on = decided_on + timedelta(days=rng.randint(20, 90))
        if closed_on > self.as_of or rng.random() < 0.3:
            return
        won = rng.random() < 0.6
        opportunity.stage = "Closed Won" if won else "Closed Lost"
        opportunity.is_closed, opportunity.is_won, opportunity.close_date = True, won, closed_on
        self.session.add(
            OpportunityStageChange(
                opportunity_crm_id=opportunity.crm_id,
                stage=opportunity.stage,
                changed_on=closed_on,
                is_closed=True,
                is_won=won,
            )
        )

    def outbound(self, partner: _Partner, day: date, company: _Company) -> None:
        rng = self.rng
        submitted = moment_on(rng, day)
        referral = outbound.refer_out(
            self.session,
            rng.choice(self.reviewers),
            self.referral_input(Kind.EQL, company, rng.randrange(5, 80) * 1000),
            partner_id=partner.id,
            settings=on_the_day(self.settings, day),
            via=Via.INTERNAL,
        )
        answered_on = day + timedelta(days=rng.randint(1, 6))
        if answered_on > self.as_of:
            self.redate(referral, submitted)
            return
        accept = rng.random() < 0.75
        reason = "" if accept else "No capacity in that region this quarter"
        outbound.respond(
            self.session,
            self.portal[partner.id],
            referral.id,
            accept=accept,
            settings=on_the_day(self.settings, answered_on),
            reason=reason,
        )
        self.redate(referral, submitted, moment_on(rng, answered_on))


def _partners(session: Session) -> list[_Partner]:
    histories: dict[int, list[tuple[date, str]]] = {}
    move = PartnerStageChange
    moves = select(move.partner_id, move.changed_on, move.to_stage).order_by(move.changed_on, move.id)
    for partner_id, on, stage in session.execute(moves):
        histories.setdefault(partner_id, []).append((on, stage))
    return [
        _Partner(partner_id, kind, tuple(histories.get(partner_id, ())))
        for partner_id, kind in session.execute(select(Partner.id, Partner.partner_type).order_by(Partner.id))
    ]


def seed_referrals(session: Session, seed: int, as_of: date, currency: str) -> int:
    """Seed inbound referrals and registrations and outbound referrals into the seeded demo workspace
    (its partners, accounts, partner managers and portal users); return how many."""
    settings = get_settings().model_copy(update={"currency": currency})
    managers = select(User).where(User.role == Role.PARTNER_MANAGER.value).order_by(User.id)
    reviewers = [user_actor(user) for user in session.scalars(managers)]
    portal = {
        user.partner_id: partner_user_actor(user)
        for user in session.scalars(
            select(PartnerUser).where(PartnerUser.is_partner_admin).order_by(PartnerUser.id)
        )
    }
    rng = random.Random(f"{seed}:referrals")
    seeder = _Seeder(session, rng, settings, as_of, reviewers, portal)
    rows = session.execute(
        select(Account.name, Account.domain, Account.country, Account.account_type).order_by(Account.id)
    ).all()
    new_logos = CompanyGenerator(
        random.Random(f"{seed}:referral-companies"),
        surname_pools(seed),
        taken_domains={domain for _name, domain, _country, _type in rows},
        taken_brands={name.lower() for name, _domain, _country, _type in rows},
    )
    prospects = [_Company(n, d, c) for n, d, c, kind in rows if kind != "Customer"]
    customers = [_Company(n, d, c) for n, d, c, kind in rows if kind == "Customer"]
    partners = _partners(session)
    days = sorted(as_of - timedelta(days=rng.randint(0, SPAN_DAYS)) for _ in range(INBOUND + OUTBOUND))
    outbound_days = set(rng.sample(range(len(days)), OUTBOUND))
    made = 0
    for n, day in enumerate(days):
        signed = [p for p in partners if p.signed_on(day)]
        if n in outbound_days:
            answering = [p for p in signed if p.id in portal]
            if answering and customers:
                seeder.outbound(rng.choice(answering), day, rng.choice(customers))
                made += 1
            continue
        if not signed:
            continue
        partner = rng.choice(signed)
        registers = 0.6 if partner.partner_type in REGISTERING_TYPES else 0.15
        kind = Kind.DEAL_REGISTRATION if rng.random() < registers else Kind.EQL
        if prospects and rng.random() >= NEW_LOGO_SHARE:
            company = rng.choice(prospects)
        else:
            logo = new_logos.company()
            company = _Company(logo.name, logo.domain, logo.country.code)
        seeder.inbound(partner, day, company, kind)
        made += 1
    session.flush()
    return made
