"""Credit per partner under the five attribution models of METRICS.md, per won opportunity and in total."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import pyarrow as pa

from ecoops.engines.metrics.results import Explained
from ecoops.engines.metrics.settings import NO_FILTERS, Filters, Period

if TYPE_CHECKING:
    from ecoops.engines.metrics.snapshot import Snapshot

MODELS = ("sourced", "first_touch", "last_touch", "linear", "time_decay", "position")

# METRICS.md "Attribution": T is the touches that count (classification rules) on each won
# opportunity closed in the period, or on the one opportunity asked for. Touches are ordered by date,
# then partner id, then touch id: first_touch takes the first; last_touch the latest date with the
# lower partner id; position gives 0.4 to the first and to the last of that order. One row per
# partner of T, with its share under each model.
ATTRIBUTION_SHARES = """
WITH touch AS (
    SELECT
        o.opportunity_crm_id, t.partner_id, t.touch_id, t.touched_on,
        o.amount, o.close_date, o.source_partner_id,
        row_number() OVER (PARTITION BY t.opportunity_key ORDER BY t.touched_on, t.partner_id, t.touch_id)
            AS position,
        row_number() OVER (
            PARTITION BY t.opportunity_key ORDER BY t.touched_on DESC, t.partner_id, t.touch_id
        ) AS recency,
        count(*) OVER (PARTITION BY t.opportunity_key) AS touches,
        pow(2.0, -(o.close_date - t.touched_on) / half_life_days()) AS decay_weight
    FROM counting_touch t
    JOIN owner_scoped_opportunity o USING (opportunity_key)
    WHERE o.is_won AND o.close_date BETWEEN $start AND $end
      AND ($opportunity_crm_id::VARCHAR IS NULL OR o.opportunity_crm_id = $opportunity_crm_id)
), per_partner AS (
    SELECT
        opportunity_crm_id,
        partner_id,
        any_value(amount) AS amount,
        count(*) AS partner_touches,
        bool_or(partner_id = source_partner_id) AS is_source,
        bool_or(position = 1) AS is_first,
        bool_or(recency = 1) AS is_last,
        sum(decay_weight) AS decay_weight,
        sum(CASE
            WHEN touches = 1 THEN 1.0::DOUBLE
            WHEN touches = 2 THEN 0.5
            WHEN position = 1 OR position = touches THEN 0.4
            ELSE 0.2 / (touches - 2)
        END) AS position_share
    FROM touch
    GROUP BY opportunity_crm_id, partner_id
)
SELECT
    opportunity_crm_id,
    partner_id,
    amount,
    partner_touches,
    CASE WHEN is_source THEN 1.0 ELSE 0.0 END::DOUBLE AS sourced,
    CASE WHEN is_first THEN 1.0 ELSE 0.0 END::DOUBLE AS first_touch,
    CASE WHEN is_last THEN 1.0 ELSE 0.0 END::DOUBLE AS last_touch,
    1.0 / count(*) OVER (PARTITION BY opportunity_crm_id) AS linear,
    decay_weight / sum(decay_weight) OVER (PARTITION BY opportunity_crm_id) AS time_decay,
    position_share AS position
FROM per_partner
"""

# Attributed revenue of a partner = Σ amount x share; every row names its model.
CREDITS = (
    "WITH shares AS ("
    + ATTRIBUTION_SHARES
    + """)
SELECT model, opportunity_crm_id, partner_id, share, amount, amount * share AS attributed_amount
FROM shares
UNPIVOT (share FOR model IN (sourced, first_touch, last_touch, linear, time_decay, position))
WHERE share > 0 AND partner_id IN (FROM scoped_partner)
"""
)
ATTRIBUTED_REVENUE = """
SELECT model, partner_id, count(*) AS opportunities, sum(attributed_amount) AS attributed_revenue
FROM records
GROUP BY model, partner_id
ORDER BY array_position($models, model), partner_id
"""


def attribution_shares(
    snapshot: Snapshot, period: Period | None = None, opportunity_crm_id: str | None = None
) -> pa.Table:
    """Each partner's share of each won opportunity (closed in `period`) under every model, side by side."""
    start, end = (period.start, period.end) if period else (date.min, snapshot.as_of)
    return snapshot.fetch(ATTRIBUTION_SHARES, start=start, end=end, opportunity_crm_id=opportunity_crm_id)


def attribute_revenue(snapshot: Snapshot, period: Period, filters: Filters = NO_FILTERS) -> Explained:
    """Attributed revenue per model and partner over the won opportunities closed in `period`.

    Shares are computed over every partner of an opportunity; partner filters choose which
    partners' credit is shown, opportunity-owner filters which opportunities are credited.
    """
    return snapshot.explained(
        filters,
        CREDITS,
        ATTRIBUTED_REVENUE,
        {"start": period.start, "end": period.end, "opportunity_crm_id": None},
        {"models": list(MODELS)},
    )
