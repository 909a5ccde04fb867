"""What signed partners produce: time to first revenue, activation rate, and partners needed for $X."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecoops.engines.metrics.results import Explained
from ecoops.engines.metrics.settings import NO_FILTERS, Filters, Period

if TYPE_CHECKING:
    from ecoops.engines.metrics.snapshot import Snapshot

# METRICS.md "time to first revenue" and "activation rate": the partners first signed in the period,
# each with the first won opportunity credited to it that closed on or after that signing (ties: the
# lower opportunity id). A partner without one has a null date: "not yet", never zero.
FIRST_REVENUE_PARTNERS = """
WITH cohort AS (
    SELECT partner_id, signed_on
    FROM partner_spell
    WHERE spell = 1 AND signed_on BETWEEN $start AND $end AND partner_id IN (FROM scoped_partner)
), first_won AS (
    SELECT c.partner_id, min({close_date: o.close_date, opportunity_crm_id: o.opportunity_crm_id}) AS first
    FROM cohort c
    JOIN credited_partner p USING (partner_id)
    JOIN opportunity_as_of o USING (opportunity_key)
    WHERE o.is_won AND o.close_date >= c.signed_on
    GROUP BY c.partner_id
)
SELECT
    c.partner_id,
    c.signed_on,
    f.first.opportunity_crm_id AS first_won_opportunity_crm_id,
    f.first.close_date AS first_revenue_on,
    f.first.close_date - c.signed_on AS days_to_first_revenue
FROM cohort c
LEFT JOIN first_won f USING (partner_id)
ORDER BY c.partner_id
"""
FIRST_REVENUE = """
SELECT
    count(*) AS signed_partners,
    count(first_revenue_on) AS activated_partners,
    count(*) - count(first_revenue_on) AS not_yet,
    count(first_revenue_on) / nullif(count(*), 0) AS activation_rate,
    avg(days_to_first_revenue) AS mean_days_to_first_revenue,
    median(days_to_first_revenue) AS median_days_to_first_revenue
FROM records
"""

# METRICS.md "partners needed for $X": productivity = the program's partner-attached revenue over the
# trailing 12 months (won opportunities credited to a member, each once) / its members signed and not
# churned on some day of those months. The records are those partners and those opportunities.
PROGRAM_RECORDS = """
WITH active_member AS (
    SELECT DISTINCT m.program_id, m.partner_id
    FROM scoped_membership m
    JOIN partner_spell s USING (partner_id)
    WHERE holds_in_trailing_year(s.signed_on, s.left_on)
), program_opportunity AS (
    SELECT DISTINCT m.program_id, w.opportunity_crm_id, w.amount
    FROM scoped_membership m
    JOIN trailing_year_win w USING (partner_id)
)
SELECT program_id, 'partner' AS record, CAST(partner_id AS VARCHAR) AS record_id, NULL::DOUBLE AS amount
FROM active_member
UNION ALL
SELECT program_id, 'opportunity' AS record, opportunity_crm_id AS record_id, amount
FROM program_opportunity
"""
PARTNERS_NEEDED = """
WITH per_program AS (
    SELECT
        p.program_id,
        count(*) FILTER (WHERE r.record = 'partner') AS active_partners,
        count(*) FILTER (WHERE r.record = 'opportunity') AS won_opportunities,
        sum(r.amount) FILTER (WHERE r.record = 'opportunity') AS revenue
    FROM (SELECT DISTINCT program_id FROM scoped_membership) p
    LEFT JOIN records r USING (program_id)
    GROUP BY p.program_id
)
SELECT
    *,
    revenue / nullif(active_partners, 0) AS productivity,
    CAST(ceil($target / nullif(revenue / nullif(active_partners, 0), 0)) AS BIGINT) AS partners_needed
FROM per_program
ORDER BY program_id
"""


def first_revenue(snapshot: Snapshot, period: Period, filters: Filters = NO_FILTERS) -> Explained:
    """Time to first revenue and activation rate of the partners first signed in `period`."""
    return snapshot.explained(
        filters, FIRST_REVENUE_PARTNERS, FIRST_REVENUE, {"start": period.start, "end": period.end}
    )


def partners_needed(snapshot: Snapshot, target_revenue: float, filters: Filters = NO_FILTERS) -> Explained:
    """Per program, how many productive partners it takes to bring `target_revenue` in 12 months."""
    if target_revenue <= 0:
        raise ValueError("the revenue target must be more than 0")
    return snapshot.explained(
        filters, PROGRAM_RECORDS, PARTNERS_NEEDED, figure_params={"target": float(target_revenue)}
    )
