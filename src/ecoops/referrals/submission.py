"""Inbound submission: a partner's referral or deal registration, validated and conflict-checked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor, ActorKind
from ecoops.audit import utcnow
from ecoops.config import Settings
from ecoops.events import EventKind
from ecoops.partners.models import Partner
from ecoops.permissions import NotFound
from ecoops.referrals.access import require_reviewer, set_status
from ecoops.referrals.companies import CompanyKeys, check_conflicts, company_keys
from ecoops.referrals.events import emit_referral_event
from ecoops.referrals.models import Direction, Kind, Referral, Status, Via

# Field caps: the no-login form is public, so every field has a size the database and reviewers can take.
MAX_LENGTHS = {
    "company": 200,
    "domain": 253,
    "country": 80,
    "contact_name": 200,
    "contact_email": 254,
    "notes": 5000,
}
MAX_VALUE = Decimal("1000000000000")


@dataclass(frozen=True)
class ReferralInput:
    """What a submitter types; strings as typed, checked by `clean`."""

    kind: str
    company: str
    domain: str = ""
    country: str = ""
    contact_name: str = ""
    contact_email: str = ""
    estimated_value: str = ""
    notes: str = ""


def _value(text: str) -> Decimal | None:
    text = text.strip().replace(",", "")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise InvalidInput(f"estimated value must be a number, not {text[:40]!r}") from None
    if not value.is_finite() or value < 0 or value > MAX_VALUE:
        raise InvalidInput("estimated value must be between 0 and 1,000,000,000,000")
    return value.quantize(Decimal("0.01"))


def clean(data: ReferralInput) -> tuple[ReferralInput, Decimal | None, CompanyKeys]:
    """The input trimmed and checked (clear messages for each problem), its value and company keys."""
    fields = {name: getattr(data, name).strip() for name in MAX_LENGTHS}
    for name, limit in MAX_LENGTHS.items():
        if len(fields[name]) > limit:
            raise InvalidInput(f"{name.replace('_', ' ')} is too long (at most {limit} characters)")
    if data.kind not in set(Kind):
        raise InvalidInput(f"type must be one of {', '.join(Kind)}")
    if not fields["company"]:
        raise InvalidInput("company is required")
    email = fields["contact_email"]
    if email and ("@" not in email or any(c.isspace() for c in email)):
        raise InvalidInput(f"not an e-mail address: {email[:60]!r}")
    keys = company_keys(fields["company"], fields["domain"], fields["country"])
    if fields["domain"] and not keys.domain_key:
        raise InvalidInput(
            f"not a usable company domain: {fields['domain'][:60]!r} (free e-mail and placeholder domains "
            "say nothing about the company)"
        )
    if fields["country"] and not keys.country:
        raise InvalidInput(f"unknown country: {fields['country'][:60]!r}")
    cleaned = ReferralInput(kind=data.kind, estimated_value=data.estimated_value, **fields)
    return cleaned, _value(data.estimated_value), keys


def new_referral(
    session: Session,
    actor: Actor,
    data: ReferralInput,
    *,
    direction: Direction,
    partner_id: int,
    via: Via,
    status: Status,
    settings: Settings,
    link_id: int | None = None,
) -> Referral:
    """Create a referral in either direction with its first history entry and conflicts (no audit)."""
    cleaned, value, keys = clean(data)
    if cleaned.kind == Kind.INTRO and direction != Direction.OUTBOUND:
        raise InvalidInput("an intro is asked of a partner, not submitted by one")
    if session.get(Partner, partner_id) is None:
        raise NotFound(f"no partner {partner_id}")
    conflicts = check_conflicts(
        session, keys, kind=cleaned.kind, partner_id=partner_id, today=settings.today()
    )
    now = utcnow()
    referral = Referral(
        direction=direction.value,
        kind=cleaned.kind,
        partner_id=partner_id,
        company=cleaned.company,
        domain=cleaned.domain,
        domain_key=keys.domain_key,
        name_key=keys.name_key,
        country=keys.country,
        contact_name=cleaned.contact_name,
        contact_email=cleaned.contact_email.lower(),
        estimated_value=value,
        notes=cleaned.notes,
        status="",
        submitted_via=via.value,
        submitted_by=actor.label,
        submitted_at=now,
        link_id=link_id,
        conflicts=[c.as_dict() for c in conflicts] if direction == Direction.INBOUND else [],
        # Inbound: our review; outbound: the partner's answer. Both are owed within the same SLA.
        sla_due_at=now + timedelta(hours=settings.referral_sla_hours),
    )
    set_status(referral, actor, status.value)
    session.add(referral)
    session.flush()
    return referral


def submit(
    session: Session,
    actor: Actor,
    data: ReferralInput,
    *,
    settings: Settings,
    via: Via,
    partner_id: int | None = None,
    link_id: int | None = None,
) -> Referral:
    """A partner's inbound referral: partner users submit for their own partner; our reviewers may enter
    one on a partner's behalf (e.g. from an e-mail) or through the API."""
    if actor.kind == ActorKind.PARTNER_USER:
        partner_id = actor.partner_id
    elif link_id is None:
        require_reviewer(actor)
    if partner_id is None:
        raise InvalidInput("partner is required")
    referral = new_referral(
        session,
        actor,
        data,
        direction=Direction.INBOUND,
        partner_id=partner_id,
        via=via,
        status=Status.SUBMITTED,
        settings=settings,
        link_id=link_id,
    )
    audit.record(
        session,
        actor,
        "referral.submitted",
        "referral",
        referral.id,
        partner_id=partner_id,
        kind=referral.kind,
        via=via.value,
        conflicts=[c["code"] for c in referral.conflicts],
    )
    emit_referral_event(session, EventKind.REFERRAL_SUBMITTED, referral, submitted_by=actor.label)
    return referral
