"""How a partner's facts become a fit score: each criterion gives a fraction (0 to 1) of its weight.

Pure: facts and criteria in, an explained score out, so the rule is tested without a database. The
score is the points won over the points possible (the sum of the weights), as a number out of 100.
"""

from __future__ import annotations

from dataclasses import dataclass

from ecoops.fit.models import Criterion
from ecoops.maturity.models import IntegrationStatus

LABELS = {
    Criterion.PARTNER_TYPE: "Partner type",
    Criterion.CUSTOMER_OVERLAP: "Overlap with our customers",
    Criterion.PIPELINE_OVERLAP: "Overlap with our open pipeline",
    Criterion.REGION: "Region",
    Criterion.SIZE: "Size (employees)",
    Criterion.INTEGRATION: "Integration status",
    Criterion.REFERRAL_CONVERSION: "Past referral conversion",
}
# What each target means, shown next to its field.
TARGET_HELP = {
    Criterion.PARTNER_TYPE: "the types that fit, comma-separated: full points for one of them",
    Criterion.CUSTOMER_OVERLAP: "the number of our customer accounts that earns full points (fewer: a share)",
    Criterion.PIPELINE_OVERLAP: "the number of our accounts with an open opportunity that earns full points",
    Criterion.REGION: "the countries that fit (ISO codes), comma-separated",
    Criterion.SIZE: "the head count range that fits, as min-max",
    Criterion.INTEGRATION: "none: live or listed 1, validated 0.75, building 0.5, idea 0.25",
    Criterion.REFERRAL_CONVERSION: "the conversion rate that earns full points, e.g. 0.3",
}
DEFAULTS: dict[Criterion, tuple[int, str]] = {
    Criterion.PARTNER_TYPE: (15, "technology, systems_integrator"),
    Criterion.CUSTOMER_OVERLAP: (25, "50"),
    Criterion.PIPELINE_OVERLAP: (25, "20"),
    Criterion.REGION: (10, "US, GB, DE"),
    Criterion.SIZE: (10, "50-5000"),
    Criterion.INTEGRATION: (10, ""),
    Criterion.REFERRAL_CONVERSION: (5, "0.3"),
}
INTEGRATION_CREDIT = {
    IntegrationStatus.LIVE: 1.0,
    IntegrationStatus.LISTED: 1.0,
    IntegrationStatus.VALIDATED: 0.75,
    IntegrationStatus.BUILDING: 0.5,
    IntegrationStatus.IDEA: 0.25,
}


@dataclass(frozen=True)
class Setting:
    """A criterion's weight and its parsed target."""

    weight: int
    target: str


@dataclass(frozen=True)
class Facts:
    """What is known of one partner or candidate."""

    partner_type: str
    country: str
    employees: int | None
    integration_status: str
    customer_overlap: int  # our customer accounts in its mapped list
    pipeline_overlap: int  # our accounts with an open opportunity in its mapped list
    referrals: int  # referrals it sent us
    converted: int  # of which became an opportunity


@dataclass(frozen=True)
class Line:
    """One criterion's part of a score: the partner's value, the fraction earned, weight and points."""

    criterion: Criterion
    value: str
    fraction: float
    weight: int
    reason: str

    @property
    def label(self) -> str:
        return LABELS[self.criterion]

    @property
    def points(self) -> float:
        return round(self.weight * self.fraction, 2)


@dataclass(frozen=True)
class Score:
    lines: tuple[Line, ...]

    @property
    def points(self) -> float:
        return round(sum(line.points for line in self.lines), 2)

    @property
    def possible(self) -> int:
        return sum(line.weight for line in self.lines)

    @property
    def score(self) -> float:
        """Out of 100; 0 when every weight is 0."""
        return round(100 * self.points / self.possible, 1) if self.possible else 0.0


def words(target: str) -> list[str]:
    return [w.strip() for w in target.split(",") if w.strip()]


def size_range(target: str) -> tuple[int, int]:
    """ "50-5000" → (50, 5000); ValueError otherwise."""
    low, _, high = target.partition("-")
    bounds = (int(low.strip()), int(high.strip()))
    if bounds[0] < 0 or bounds[1] < bounds[0]:
        raise ValueError(target)
    return bounds


def _share(count: int, target: str, noun: str) -> tuple[float, str]:
    full = float(target)
    fraction = min(1.0, count / full) if full > 0 else 1.0
    return fraction, f"{count} of the {full:g} {noun} that earn full points"


def _line(criterion: Criterion, setting: Setting, facts: Facts) -> Line:
    target = setting.target
    fraction, value = 0.0, ""
    if criterion == Criterion.PARTNER_TYPE:
        value = facts.partner_type
        fraction = 1.0 if facts.partner_type in words(target) else 0.0
        reason = f"{'one' if fraction else 'not one'} of the types that fit ({target or 'none named'})"
    elif criterion == Criterion.REGION:
        value = facts.country or "not known"
        fraction = (
            1.0 if facts.country and facts.country.upper() in {w.upper() for w in words(target)} else 0.0
        )
        reason = f"{'in' if fraction else 'not in'} the regions that fit ({target or 'none named'})"
    elif criterion == Criterion.CUSTOMER_OVERLAP:
        value = str(facts.customer_overlap)
        fraction, reason = _share(facts.customer_overlap, target, "customer accounts")
    elif criterion == Criterion.PIPELINE_OVERLAP:
        value = str(facts.pipeline_overlap)
        fraction, reason = _share(facts.pipeline_overlap, target, "accounts with open pipeline")
    elif criterion == Criterion.SIZE:
        low, high = size_range(target)
        if facts.employees is None:
            value, reason = "not known", "no head count recorded"
        else:
            value = str(facts.employees)
            fraction = 1.0 if low <= facts.employees <= high else 0.0
            reason = f"{'within' if fraction else 'outside'} {low}-{high} employees"
    elif criterion == Criterion.INTEGRATION:
        status = facts.integration_status
        value = status or "not known"
        fraction = INTEGRATION_CREDIT.get(IntegrationStatus(status), 0.0) if status else 0.0
        reason = "live or listed 1, validated 0.75, building 0.5, idea 0.25"
    else:
        if facts.referrals == 0:
            value, reason = "no referrals yet", "no referral received from it"
        else:
            rate = facts.converted / facts.referrals
            value = f"{rate:.0%} ({facts.converted} of {facts.referrals})"
            full = float(target)
            fraction = min(1.0, rate / full) if full > 0 else 1.0
            reason = f"referrals that became an opportunity; {full:.0%} earns full points"
    return Line(criterion, value, round(fraction, 4), setting.weight, reason)


def score(facts: Facts, settings: dict[Criterion, Setting]) -> Score:
    """The explained score of `facts` under the criteria, in the criteria's order."""
    return Score(tuple(_line(c, settings[c], facts) for c in Criterion if c in settings))
