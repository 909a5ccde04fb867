"""A tier's terms: the criteria a partner must meet to hold it, and the benefits holding it gives.

Saved as a whole (criteria replaced, benefits set), validated first so nothing is half-written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.actors import Actor
from ecoops.partners.models import Membership, Tier, TierCriterion
from ecoops.partners.programs import FieldError
from ecoops.partners.tier_figures import DEFAULT_WINDOW_DAYS, METRICS, threshold_text
from ecoops.permissions import Permission, require

MAX_THRESHOLD = Decimal("1e15")
MAX_WINDOW_DAYS = 3 * 365
MAX_REGISTRATION_DAYS = 3650
COMMISSION_CLASS_MAX, PORTAL_CONTENT_MAX = 60, 5000


@dataclass(frozen=True)
class CriterionInput:
    metric: str
    threshold: Decimal | float | int | str
    window_days: int = DEFAULT_WINDOW_DAYS


@dataclass(frozen=True)
class TierTerms:
    registration_days: int | None = None  # None: the workspace's default registration window
    commission_class: str = ""
    mdf_eligible: bool = False
    portal_content: str = ""
    criteria: list[CriterionInput] = field(default_factory=list)


def _threshold(name: str, value: Decimal | float | int | str) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise FieldError(name, f"must be a number, not {value!r}") from None
    if not number.is_finite() or not 0 <= number < MAX_THRESHOLD:
        raise FieldError(name, f"must be between 0 and {MAX_THRESHOLD:,.0f}, not {value}")
    if number != number.quantize(Decimal("0.01")):
        raise FieldError(name, "at most two decimals")
    return number


def _criteria(given: list[CriterionInput]) -> list[TierCriterion]:
    seen: set[str] = set()
    criteria = []
    for index, criterion in enumerate(given):
        name = f"criteria[{index}]"
        if criterion.metric not in METRICS:
            raise FieldError(
                f"{name}.metric", f"unknown metric {criterion.metric!r}; one of {', '.join(METRICS)}"
            )
        if criterion.metric in seen:
            raise FieldError(f"{name}.metric", f"{criterion.metric} is given twice")
        seen.add(criterion.metric)
        if not 1 <= criterion.window_days <= MAX_WINDOW_DAYS:
            raise FieldError(
                f"{name}.window_days", f"must be between 1 and {MAX_WINDOW_DAYS}, not {criterion.window_days}"
            )
        criteria.append(
            TierCriterion(
                metric=criterion.metric,
                threshold=_threshold(f"{name}.threshold", criterion.threshold),
                window_days=criterion.window_days,
            )
        )
    return criteria


def terms_of(tier: Tier) -> dict[str, object]:
    """The tier's terms as plain values (audit, API)."""
    return {
        "registration_days": tier.registration_days,
        "commission_class": tier.commission_class,
        "mdf_eligible": tier.mdf_eligible,
        "portal_content": tier.portal_content,
        "criteria": [
            {"metric": c.metric, "threshold": threshold_text(c.threshold), "window_days": c.window_days}
            for c in tier.criteria
        ],
    }


def set_tier_terms(session: Session, actor: Actor, tier: Tier, terms: TierTerms) -> None:
    require(actor, Permission.EDIT_PROGRAM)
    days = terms.registration_days
    if days is not None and not 1 <= days <= MAX_REGISTRATION_DAYS:
        raise FieldError("registration_days", f"must be between 1 and {MAX_REGISTRATION_DAYS}, not {days}")
    commission = terms.commission_class.strip()
    if len(commission) > COMMISSION_CLASS_MAX:
        raise FieldError(
            "commission_class", f"at most {COMMISSION_CLASS_MAX} characters, not {len(commission)}"
        )
    content = terms.portal_content.strip()
    if len(content) > PORTAL_CONTENT_MAX:
        raise FieldError("portal_content", f"at most {PORTAL_CONTENT_MAX} characters, not {len(content)}")
    criteria = _criteria(terms.criteria)
    before = terms_of(tier)
    tier.registration_days, tier.commission_class = days, commission
    tier.mdf_eligible, tier.portal_content = terms.mdf_eligible, content
    # Replaced as a whole: flush the removals first, or a kept metric's new row meets the old one's key.
    tier.criteria.clear()
    session.flush()
    tier.criteria.extend(criteria)
    session.flush()
    audit.record(session, actor, "tier.terms_updated", "tier", tier.id, before=before, after=terms_of(tier))


def registration_window(session: Session, partner_id: int, default: int) -> int:
    """Days a deal registration of this partner stays protected: the longest of its tiers, else `default`."""
    days = session.scalar(
        select(func.max(Tier.registration_days))
        .join(Membership, Membership.tier_id == Tier.id)
        .where(Membership.partner_id == partner_id)
    )
    return days or default
