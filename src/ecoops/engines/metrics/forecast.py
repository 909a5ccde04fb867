"""The forecast from overlaps: overlap count x historical conversion x deal size, with a Wilson interval."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecoops.engines.metrics.results import Explained
from ecoops.engines.metrics.settings import NO_FILTERS, Filters

if TYPE_CHECKING:
    from ecoops.engines.metrics.snapshot import Snapshot

# METRICS.md "Forecast from overlaps": for each (our population, partner, partner population), the
# accounts held in it on some day of the trailing 12 months, whether each is held on the date, and
# whether it converted: a won opportunity on the account, credited to that partner, closed in those
# months on or after the overlap began.
FORECAST_ACCOUNTS = """
WITH held AS (
    SELECT
        our_population, partner_id, partner_population, our_account_crm_id AS account_crm_id,
        min(began_on) AS began_on,
        bool_or(holds_on_as_of(began_on, ended_on)) AS held_on_as_of
    FROM input_overlaps
    WHERE holds_in_trailing_year(began_on, ended_on) AND partner_id IN (FROM scoped_partner)
    GROUP BY ALL
), won AS (
    SELECT DISTINCT account_crm_id, partner_id, close_date FROM trailing_year_win
)
SELECT
    h.*,
    EXISTS (
        SELECT 1 FROM won w
        WHERE w.account_crm_id = h.account_crm_id AND w.partner_id = h.partner_id
          AND w.close_date >= h.began_on
    ) AS converted
FROM held h
"""
# rate = converted / accounts held in the year; the Wilson score interval at z bounds it; the average
# deal size is that of won partner-attached opportunities of the trailing 12 months.
FORECAST = """
WITH pair AS (
    SELECT
        our_population, partner_id, partner_population,
        count(*) FILTER (WHERE held_on_as_of) AS overlap_accounts,
        count(*) AS accounts_in_year,
        count(*) FILTER (WHERE converted) AS converted_accounts
    FROM records
    GROUP BY ALL
), deal AS (
    SELECT avg(amount) AS average_deal_size
    FROM opportunity_as_of
    WHERE is_won AND close_date > year_before() AND classification <> 'direct'
), observed AS (
    SELECT *, converted_accounts / accounts_in_year AS conversion_rate, accounts_in_year AS n FROM pair
), rate AS (
    SELECT
        *,
        (conversion_rate + $z * $z / (2 * n)) / (1 + $z * $z / n) AS centre,
        $z * sqrt(conversion_rate * (1 - conversion_rate) / n + $z * $z / (4 * n * n)) / (1 + $z * $z / n)
            AS half_width
    FROM observed
)
SELECT
    'forecast' AS label,
    r.our_population, r.partner_id, r.partner_population,
    r.overlap_accounts, r.accounts_in_year, r.converted_accounts,
    r.conversion_rate,
    greatest(r.centre - r.half_width, 0.0) AS conversion_low,
    least(r.centre + r.half_width, 1.0) AS conversion_high,
    d.average_deal_size,
    r.overlap_accounts * r.conversion_rate * d.average_deal_size AS forecast,
    r.overlap_accounts * greatest(r.centre - r.half_width, 0.0) * d.average_deal_size AS forecast_low,
    r.overlap_accounts * least(r.centre + r.half_width, 1.0) * d.average_deal_size AS forecast_high
FROM rate r
CROSS JOIN deal d
WHERE r.overlap_accounts > 0
ORDER BY r.our_population, r.partner_id, r.partner_population
"""


def forecast_from_overlaps(snapshot: Snapshot, filters: Filters = NO_FILTERS) -> Explained:
    """Expected won partner-attached revenue from today's overlaps, per population pair, with its interval."""
    return snapshot.explained(
        filters, FORECAST_ACCOUNTS, FORECAST, figure_params={"z": snapshot.settings.wilson_z}
    )
