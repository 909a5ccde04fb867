"""The figures tier criteria are measured by, per partner, as of a date.

No second definition: the windowed figures are columns of the metrics service's partner scorecard
(docs/dashboards.md), computed over the criterion's trailing window, so a tier's "sourced revenue"
is the number the scorecard shows for the same dates. Certified people are kept on the partner.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from ecoops.actors import Actor
from ecoops.config import Settings
from ecoops.engines.metrics import Period
from ecoops.metrics.service import MetricsQuery, report
from ecoops.partners.models import Partner, Tier


@dataclass(frozen=True)
class Metric:
    label: str
    help: str
    column: str | None  # the scorecard's column; None: the partner record's `certified_people`
    money: bool = False


METRICS: dict[str, Metric] = {
    "sourced_revenue": Metric(
        "Partner-sourced won revenue",
        "won opportunities closed in the window of which the partner is the source (confirmed touches)",
        "sourced_revenue",
        money=True,
    ),
    "won_deals": Metric(
        "Won deals (sourced or influenced)",
        "won opportunities closed in the window on which a confirmed touch of the partner counts",
        "linear_won",
    ),
    "referrals_sent": Metric(
        "Referrals sent",
        "referrals the partner submitted to us in the window, less rejected ones",
        "referrals_received",  # the scorecard counts from our side: received by us
    ),
    "certified_people": Metric(
        "Certified people",
        "people at the partner holding a current certification, as kept on the partner (no window)",
        None,
    ),
}
DEFAULT_WINDOW_DAYS = 365


def trailing(as_of: date, days: int) -> Period:
    """The `days` days up to and including `as_of` (365: the metrics' trailing year)."""
    return Period(as_of - timedelta(days=days - 1), as_of)


class TierFigures:
    """Each partner's figures on `as_of`; one scorecard per window length, read when first asked for."""

    def __init__(self, session: Session, actor: Actor, config: Settings, as_of: date) -> None:
        self.session, self.actor, self.config, self.as_of = session, actor, config, as_of
        self._scorecards: dict[int, dict[int, dict[str, Any]]] = {}

    def value(self, partner: Partner, metric: str, window_days: int) -> float:
        column = METRICS[metric].column
        if column is None:
            return float(partner.certified_people)
        if window_days not in self._scorecards:
            query = MetricsQuery(as_of=self.as_of, period=trailing(self.as_of, window_days))
            table = report(self.session, self.actor, self.config, query, ["scorecard"]).figures["scorecard"]
            self._scorecards[window_days] = {row["partner_id"]: row for row in table.to_pylist()}
        # Cents: a float sum of amounts must not miss a threshold by a rounding error.
        return round(float(self._scorecards[window_days].get(partner.id, {}).get(column) or 0), 2)

    def check(self, partner: Partner, tier: Tier) -> dict[str, Any]:
        """The tier's criteria for this partner: each figure against its threshold; `met` when all are."""
        criteria = [
            {
                "metric": c.metric,
                "label": METRICS[c.metric].label,
                "window_days": c.window_days if METRICS[c.metric].column else None,
                "value": (value := self.value(partner, c.metric, c.window_days)),
                "threshold": float(c.threshold),
                "met": value >= float(c.threshold),
            }
            for c in tier.criteria
        ]
        return {
            "tier_id": tier.id,
            "tier": tier.name,
            "criteria": criteria,
            "met": all(c["met"] for c in criteria),
        }


def threshold_text(value: Decimal | float) -> str:
    """A threshold as people type it: 25000 rather than 25000.00."""
    return f"{Decimal(str(value)).normalize():f}"
