"""A rule's conditions, and the facts about an event they are checked against.

Facts come from the event's columns and payload (population, amount, account owner, a referral's
direction and kind) and from the
partner's memberships as they are when the rule is evaluated (program, tier, partner type). An
empty condition holds for every event; a condition on a fact the event does not carry (an amount on
a stage change) does not hold.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.accounts.service import InvalidInput
from ecoops.events.models import Event
from ecoops.partners.models import Membership, Partner, PartnerType
from ecoops.referrals.models import Direction, Kind


@dataclass(frozen=True)
class Facts:
    """What conditions can ask about one event."""

    partner_id: int | None
    partner_type: str
    program_ids: frozenset[int]
    tier_ids: frozenset[int]
    population: str
    amount: Decimal | None
    account_owner: str
    direction: str
    referral_kind: str


def _amount(value: object) -> Decimal | None:
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except InvalidOperation:
        return None


class FactSource:
    """Facts for events, reading each partner's type and memberships once per dispatch or preview."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._partners: dict[int, tuple[str, frozenset[int], frozenset[int]]] = {}

    def _partner(self, partner_id: int) -> tuple[str, frozenset[int], frozenset[int]]:
        if partner_id not in self._partners:
            partner_type = self.session.scalar(select(Partner.partner_type).where(Partner.id == partner_id))
            rows = self.session.execute(
                select(Membership.program_id, Membership.tier_id).where(Membership.partner_id == partner_id)
            ).all()
            self._partners[partner_id] = (
                partner_type or "",
                frozenset(p for p, _ in rows),
                frozenset(t for _, t in rows if t is not None),
            )
        return self._partners[partner_id]

    def facts(self, event: Event) -> Facts:
        partner_type, programs, tiers = "", frozenset[int](), frozenset[int]()
        if event.partner_id is not None:
            partner_type, programs, tiers = self._partner(event.partner_id)
        payload = event.payload or {}
        return Facts(
            partner_id=event.partner_id,
            partner_type=partner_type,
            program_ids=programs,
            tier_ids=tiers,
            population=str(payload.get("population", "")),
            amount=_amount(payload.get("amount")),
            account_owner=str(payload.get("account_owner", "")),
            direction=str(payload.get("direction", "")),
            referral_kind=str(payload.get("referral_kind", "")),
        )


@dataclass(frozen=True)
class Conditions:
    """Every field set must hold (AND); text comparisons ignore case and surrounding spaces."""

    partner_id: int | None = None
    program_id: int | None = None
    tier_id: int | None = None
    partner_type: str = ""
    population: str = ""  # the partner's population label (their "Customers"), or our population key
    min_amount: Decimal | None = None
    account_owner: str = ""  # as the CRM writes it: a name or an e-mail
    direction: str = ""  # referrals: inbound (from the partner) or outbound (ours to the partner)
    referral_kind: str = ""  # referrals: eql or deal_registration

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["min_amount"] = None if self.min_amount is None else str(self.min_amount)
        return {k: v for k, v in data.items() if v not in (None, "")}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Conditions:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if values.get("min_amount") is not None:
            values["min_amount"] = Decimal(str(values["min_amount"]))
        return cls(**values)

    @classmethod
    def parse(cls, form: dict[str, str]) -> Conditions:
        """From form or JSON text values; empty strings mean "any"."""

        def number(name: str) -> int | None:
            text = form.get(name, "").strip()
            if not text:
                return None
            if not text.isdigit():
                raise InvalidInput(f"{name.replace('_', ' ')} must be an id, not {text[:40]!r}")
            return int(text)

        amount_text = form.get("min_amount", "").strip().replace(",", "")
        try:
            amount = Decimal(amount_text) if amount_text else None
        except InvalidOperation:
            raise InvalidInput(f"minimum amount must be a number, not {amount_text[:40]!r}") from None
        return cls(
            partner_id=number("partner_id"),
            program_id=number("program_id"),
            tier_id=number("tier_id"),
            partner_type=form.get("partner_type", "").strip(),
            population=form.get("population", "").strip(),
            min_amount=amount,
            account_owner=form.get("account_owner", "").strip(),
            direction=form.get("direction", "").strip(),
            referral_kind=form.get("referral_kind", "").strip(),
        )

    def cleaned(self) -> Conditions:
        if self.partner_type and self.partner_type not in set(PartnerType):
            raise InvalidInput(f"unknown partner type {self.partner_type!r}")
        if self.min_amount is not None and (not self.min_amount.is_finite() or self.min_amount < 0):
            raise InvalidInput("minimum amount must be zero or more")
        if self.direction and self.direction not in set(Direction):
            raise InvalidInput(f"direction must be one of {', '.join(Direction)}")
        if self.referral_kind and self.referral_kind not in set(Kind):
            raise InvalidInput(f"referral kind must be one of {', '.join(Kind)}")
        if len(self.population) > 120 or len(self.account_owner) > 200:
            raise InvalidInput("population or account owner is too long")
        return self

    def matches(self, facts: Facts) -> bool:
        def same(a: str, b: str) -> bool:
            return a.strip().lower() == b.strip().lower()

        return (
            (self.partner_id is None or facts.partner_id == self.partner_id)
            and (self.program_id is None or self.program_id in facts.program_ids)
            and (self.tier_id is None or self.tier_id in facts.tier_ids)
            and (not self.partner_type or facts.partner_type == self.partner_type)
            and (not self.population or same(facts.population, self.population))
            and (self.min_amount is None or (facts.amount is not None and facts.amount >= self.min_amount))
            and (not self.account_owner or same(facts.account_owner, self.account_owner))
            and (not self.direction or facts.direction == self.direction)
            and (not self.referral_kind or facts.referral_kind == self.referral_kind)
        )
