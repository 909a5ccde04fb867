"""Commission plans: creating and ending them, what they say in words, and the engine's plan tables.

A plan is effective-dated and never edited: to change the terms, end it and create the next version
from the following day, so lines already written keep the terms they were computed with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.actors import Actor
from ecoops.commissions import engine
from ecoops.commissions.models import BOUNTY_BASES, PERCENT_BASES, Basis, CommissionPlan, PlanKind, PlanRate
from ecoops.partners.models import Partner, Program, Tier
from ecoops.partners.programs import FieldError
from ecoops.partners.tier_history import tiers_held
from ecoops.permissions import NotFound, Permission, require

NAME_MAX, MONTHS_MAX, CLAWBACK_MAX = 120, 120, 3650
MAX_CENTS = 10**13  # 100 billion in the currency: beyond any commission, and safe in every product


def parse_money(fieldname: str, text: str, *, required: bool = False) -> int | None:
    """Cents from "1234.5" or "1,234.50" (a Decimal, never a float); blank is None unless required."""
    cleaned = text.strip().replace(",", "")
    if not cleaned:
        if required:
            raise FieldError(fieldname, "required")
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise FieldError(fieldname, f"{text.strip()!r} is not an amount, e.g. 2500 or 2,500.00") from None
    if not value.is_finite() or value < 0 or value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise FieldError(fieldname, "an amount of 0 or more, with at most 2 decimals")
    cents = int(value * 100)
    if cents >= MAX_CENTS:
        raise FieldError(fieldname, "too large")
    return cents


def parse_percent(fieldname: str, text: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise FieldError(fieldname, f"{text.strip()!r} is not a percentage, e.g. 10 or 12.5") from None
    if not value.is_finite() or not 0 <= value <= 100 or value.as_tuple().exponent < -4:  # type: ignore[operator]
        raise FieldError(fieldname, "a percentage from 0 to 100, with at most 4 decimals")
    return value


def money(cents: int | None, currency: str = "") -> str:
    """1234567 → "12,345.67" (with the currency after it when given)."""
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole:,}.{part:02d}" + (f" {currency}" if currency else "")


@dataclass
class PlanInput:
    """A plan as typed on the form or sent by a test; `rates` are (from amount, percent) texts."""

    name: str
    program_id: int
    kind: str = PlanKind.PERCENT.value
    basis: str = Basis.SOURCED.value
    tier_id: int | None = None
    partner_id: int | None = None
    rates: list[tuple[str, str]] = field(default_factory=list)
    months: int = 0
    bounty: str = ""
    cap_deal: str = ""
    cap_period: str = ""
    clawback_days: int = 90
    currency: str = ""
    valid_from: date | None = None
    valid_to: date | None = None


def _rates(data: PlanInput) -> list[PlanRate]:
    rates: list[PlanRate] = []
    for position, (threshold, percent) in enumerate(data.rates, start=1):
        if not threshold.strip() and not percent.strip():
            continue
        cents = parse_money(f"rates[{position}].from", threshold) or 0
        rates.append(PlanRate(from_cents=cents, percent=parse_percent(f"rates[{position}].percent", percent)))
    if not rates:
        raise FieldError("rates", "a percent plan needs a rate (from 0)")
    thresholds = [r.from_cents for r in rates]
    if len(set(thresholds)) != len(thresholds):
        raise FieldError("rates", "two rates start at the same volume")
    if min(thresholds) != 0:
        raise FieldError("rates", "the first rate must start at a volume of 0")
    return sorted(rates, key=lambda r: r.from_cents)


def create_plan(
    session: Session, actor: Actor, data: PlanInput, *, workspace_currency: str
) -> CommissionPlan:
    """Store a plan after checking every field; raises FieldError naming the first bad one."""
    require(actor, Permission.MANAGE_COMMISSIONS)
    name = data.name.strip()
    if not name or len(name) > NAME_MAX:
        raise FieldError("name", f"1 to {NAME_MAX} characters")
    program = session.get(Program, data.program_id)
    if program is None:
        raise FieldError("program_id", "no such program")
    if data.tier_id is not None:
        tier = session.get(Tier, data.tier_id)
        if tier is None or tier.program_id != program.id:
            raise FieldError("tier_id", f"not a tier of {program.name}")
    if data.partner_id is not None and session.get(Partner, data.partner_id) is None:
        raise FieldError("partner_id", "no such partner")
    if data.kind not in tuple(PlanKind):
        raise FieldError("kind", f"one of {', '.join(PlanKind)}")
    bases = PERCENT_BASES if data.kind == PlanKind.PERCENT else BOUNTY_BASES
    if data.basis not in bases:
        raise FieldError("basis", f"for a {data.kind} plan, one of {', '.join(bases)}")
    if not 0 <= data.months <= MONTHS_MAX:
        raise FieldError("months", f"0 (one line at the close) to {MONTHS_MAX}")
    if not 0 <= data.clawback_days <= CLAWBACK_MAX:
        raise FieldError("clawback_days", f"0 to {CLAWBACK_MAX} days")
    currency = (data.currency.strip() or workspace_currency).upper()
    # Deals are in the workspace currency and ecoops converts nothing: a plan pays in that currency.
    if currency != workspace_currency.upper():
        raise FieldError("currency", f"plans pay in the workspace currency, {workspace_currency}")
    if data.valid_from is None:
        raise FieldError("valid_from", "required")
    if data.valid_to is not None and data.valid_to < data.valid_from:
        raise FieldError("valid_to", "on or after valid from")
    plan = CommissionPlan(
        name=name,
        program_id=program.id,
        tier_id=data.tier_id,
        partner_id=data.partner_id,
        kind=data.kind,
        basis=data.basis,
        months=data.months if data.kind == PlanKind.PERCENT else 0,
        bounty_cents=parse_money("bounty", data.bounty, required=True)
        if data.kind == PlanKind.BOUNTY
        else None,
        cap_deal_cents=parse_money("cap_deal", data.cap_deal),
        cap_period_cents=parse_money("cap_period", data.cap_period),
        clawback_days=data.clawback_days,
        currency=currency,
        valid_from=data.valid_from,
        valid_to=data.valid_to,
        created_by=actor.label,
        rates=_rates(data) if data.kind == PlanKind.PERCENT else [],
    )
    session.add(plan)
    session.flush()
    audit.record(session, actor, "commission_plan.created", "commission_plan", plan.id, terms=describe(plan))
    return plan


def end_plan(session: Session, actor: Actor, plan_id: int, valid_to: date) -> CommissionPlan:
    """End a plan on `valid_to` (its last day); deals closing later fall to the plan that follows."""
    require(actor, Permission.MANAGE_COMMISSIONS)
    plan = session.get(CommissionPlan, plan_id)
    if plan is None:
        raise NotFound(f"no commission plan {plan_id}")
    if valid_to < plan.valid_from:
        raise FieldError("valid_to", f"on or after the plan's start, {plan.valid_from}")
    before = plan.valid_to
    plan.valid_to = valid_to
    audit.record(
        session,
        actor,
        "commission_plan.ended",
        "commission_plan",
        plan.id,
        before=str(before) if before else None,
        after=str(valid_to),
    )
    return plan


def list_plans(session: Session, actor: Actor) -> list[CommissionPlan]:
    require(actor, Permission.MANAGE_COMMISSIONS)
    return list(
        session.scalars(select(CommissionPlan).order_by(CommissionPlan.valid_from.desc(), CommissionPlan.id))
    )


def percent_text(rate_ppm: int) -> str:
    """125000 → "12.5%"."""
    return f"{(Decimal(rate_ppm) / 10_000).normalize():f}%"


def rate_ppm(percent: Decimal) -> int:
    return int(percent * 10_000)


def describe(plan: CommissionPlan) -> str:
    """The plan's terms in one line, as statements and the audit trail show them."""
    if plan.kind == PlanKind.BOUNTY:
        kind = plan.basis.replace("any", "referral or registration")
        what = f"{money(plan.bounty_cents, plan.currency)} per approved {kind}"
    else:
        rates = ", ".join(
            percent_text(rate_ppm(r.percent))
            + (f" from {money(r.from_cents)} a month" if r.from_cents else "")
            for r in plan.rates
        )
        credit = {"sourced": "sourced", "influenced": "influenced", "any": "credited"}[plan.basis]
        span = f"recurring over {plan.months} months" if plan.months else "first year, on the close"
        what = f"{rates} of {credit} revenue, {span}"
    caps = [
        f"cap {money(cents, plan.currency)} per {unit}"
        for cents, unit in ((plan.cap_deal_cents, "deal"), (plan.cap_period_cents, "month"))
        if cents is not None
    ]
    valid = f"valid {plan.valid_from}" + (f" to {plan.valid_to}" if plan.valid_to else " on")
    return "; ".join([what, *caps, f"clawback {plan.clawback_days} days", valid])


PlanScope = tuple[int, int, int | None, int | None]  # plan id, program id, tier id, override partner id
# partner id, program id, tier id held (None: no tier), from (None: always), until, exclusive (None: still)
HeldTier = tuple[int, int, int | None, date | None, date | None]
PaidPartner = tuple[int, int, date | None, date | None]  # plan id, partner id, paid from, until (exclusive)


def paid_partners(plans: list[PlanScope], held: list[HeldTier]) -> list[PaidPartner]:
    """(plan id, partner id, from, until) for every partner a plan pays: the members of its program, except
    those with an override in that program, which their override pays instead. A plan naming a tier pays a
    member for the deals closed (bounties approved) while it held that tier, from and until the dates of
    its tier changes (`held`: partners/tier_history.py); other plans pay members whatever their tier."""
    overridden = {(program_id, partner_id) for _plan, program_id, _tier, partner_id in plans if partner_id}
    members = sorted({(partner_id, program_id) for partner_id, program_id, *_held in held})
    pairs: list[PaidPartner] = []
    for plan_id, program_id, tier_id, override in plans:
        if override is not None:
            pairs.append((plan_id, override, None, None))
        elif tier_id is None:
            pairs.extend(
                (plan_id, partner_id, None, None)
                for partner_id, member_of in members
                if member_of == program_id and (program_id, partner_id) not in overridden
            )
        else:
            pairs.extend(
                (plan_id, partner_id, since, until)
                for partner_id, member_of, member_tier, since, until in held
                if member_of == program_id
                and tier_id == member_tier
                and (program_id, partner_id) not in overridden
            )
    return pairs


def plan_tables(session: Session) -> tuple[pa.Table, pa.Table, pa.Table]:
    """The engine's plans, rates and plan_partners tables from the stored plans and memberships.

    A plan names a program (and maybe a tier) and pays its members; a plan naming a partner is that
    partner's override and replaces the program's general plans for it. A tier's plan pays by the tier
    held on the deal's close date, not today's.
    """
    plans = list(session.scalars(select(CommissionPlan)))
    pairs = paid_partners(
        [(p.id, p.program_id, p.tier_id, p.partner_id) for p in plans],
        [(h.partner_id, h.program_id, h.tier_id, h.since, h.until) for h in tiers_held(session)],
    )
    plan_table = pa.Table.from_pylist(
        [
            {
                "plan_id": p.id,
                "kind": p.kind,
                "basis": p.basis,
                "months": p.months,
                "bounty_cents": p.bounty_cents,
                "cap_deal_cents": p.cap_deal_cents,
                "cap_period_cents": p.cap_period_cents,
                "valid_from": p.valid_from,
                "valid_to": p.valid_to,
            }
            for p in plans
        ],
        schema=engine.PLANS,
    )
    rates = pa.Table.from_pylist(
        [
            {"plan_id": p.id, "from_cents": r.from_cents, "rate_ppm": rate_ppm(r.percent)}
            for p in plans
            for r in p.rates
        ],
        schema=engine.RATES,
    )
    partners = pa.Table.from_pylist(
        [
            {"plan_id": plan_id, "partner_id": partner_id, "held_from": since, "held_until": until}
            for plan_id, partner_id, since, until in pairs
        ],
        schema=engine.PLAN_PARTNERS,
    )
    return plan_table, rates, partners
