"""Sourced and influenced revenue over a period, and pipeline by class on the snapshot date."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecoops.engines.metrics.results import Explained
from ecoops.engines.metrics.settings import NO_FILTERS, Filters, Period

if TYPE_CHECKING:
    from ecoops.engines.metrics.snapshot import Snapshot

# METRICS.md "Sourced revenue" / "Influenced revenue": the won partner-sourced (partner-influenced)
# opportunities whose close date is in the period.
WON_PARTNER_OPPORTUNITIES = """
SELECT opportunity_crm_id, account_crm_id, classification, source_partner_id, amount, created_on, close_date
FROM scoped_opportunity
WHERE is_won AND close_date BETWEEN $start AND $end AND classification <> 'direct'
"""
REVENUE = """
SELECT c.classification, count(r.opportunity_crm_id) AS won_opportunities, sum(r.amount) AS revenue
FROM opportunity_class c
LEFT JOIN records r USING (classification)
WHERE c.classification <> 'direct'
GROUP BY c.classification, c.position
ORDER BY c.position
"""

# METRICS.md "Pipeline (as of a date)": created on or before the date and not closed on or before it.
OPEN_OPPORTUNITIES = """
SELECT opportunity_crm_id, account_crm_id, classification, source_partner_id, amount, created_on
FROM scoped_opportunity
WHERE NOT is_closed
"""
PIPELINE = """
SELECT c.classification, count(r.opportunity_crm_id) AS open_opportunities, sum(r.amount) AS pipeline
FROM opportunity_class c
LEFT JOIN records r USING (classification)
GROUP BY c.classification, c.position
ORDER BY c.position
"""


def partner_revenue(snapshot: Snapshot, period: Period, filters: Filters = NO_FILTERS) -> Explained:
    """Sourced and influenced revenue of `period`, with the won opportunities behind each."""
    return snapshot.explained(
        filters, WON_PARTNER_OPPORTUNITIES, REVENUE, {"start": period.start, "end": period.end}
    )


def pipeline_by_class(snapshot: Snapshot, filters: Filters = NO_FILTERS) -> Explained:
    """Open pipeline on the snapshot date per class, with the open opportunities behind it."""
    return snapshot.explained(filters, OPEN_OPPORTUNITIES, PIPELINE)
