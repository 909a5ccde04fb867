"""The knobs METRICS.md calls configurable, the period a figure covers, and the filters a reader applies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from statistics import NormalDist


@dataclass(frozen=True)
class MetricsSettings:
    """Workspace settings the definitions depend on; the defaults are what ships (METRICS.md)."""

    sourcing_grace_days: int = 7
    influence_look_back_days: int = 90
    time_decay_half_life_days: float = 30.0
    currency: str = "USD"
    # A proposed or disputed touch is a claim, not evidence: only these statuses count.
    counted_touch_statuses: tuple[str, ...] = ("confirmed",)
    # Which of a partner's population labels are "the partner's customers".
    partner_customer_populations: tuple[str, ...] = ("customers",)
    # Our populations the EQL pre-pipeline draws from, and the one "our open opportunities" is.
    eql_our_populations: tuple[str, ...] = ("prospects", "open_opportunities")
    open_opportunity_populations: tuple[str, ...] = ("open_opportunities",)
    forecast_confidence: float = 0.80

    def __post_init__(self) -> None:
        if self.sourcing_grace_days < 0 or self.influence_look_back_days < 0:
            raise ValueError("the sourcing grace and the influence look-back are whole days, 0 or more")
        if self.time_decay_half_life_days <= 0:
            raise ValueError("the time-decay half-life must be more than 0 days")
        if not 0 < self.forecast_confidence < 1:
            raise ValueError("the forecast confidence is a fraction between 0 and 1, e.g. 0.8")

    @property
    def wilson_z(self) -> float:
        """The normal quantile of a two-sided interval at `forecast_confidence` (1.2816 at 80 %)."""
        return NormalDist().inv_cdf(0.5 + self.forecast_confidence / 2)


@dataclass(frozen=True)
class Period:
    """A closed range of calendar dates [start, end]."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError(f"a period starts on or before it ends; got {self.start} to {self.end}")


@dataclass(frozen=True)
class Filters:
    """What a reader narrows a figure to; an empty tuple means "no filter on this dimension".

    The partner dimensions select partners (matching all given dimensions); `opportunity_owners`
    selects opportunities by their CRM owner and leaves partner-only figures alone.
    """

    partner_ids: tuple[int, ...] = ()
    program_ids: tuple[int, ...] = ()
    tier_ids: tuple[int, ...] = ()
    partner_types: tuple[str, ...] = ()
    partner_owner_ids: tuple[int, ...] = ()
    opportunity_owners: tuple[str, ...] = ()

    @property
    def selects_partners(self) -> bool:
        return bool(
            self.partner_ids
            or self.program_ids
            or self.tier_ids
            or self.partner_types
            or self.partner_owner_ids
        )


NO_FILTERS = Filters()
