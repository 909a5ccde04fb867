"""Partner-versus-direct overlays: win rate, deal size, sales cycle, velocity and days in stage per class."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecoops.engines.metrics.results import Explained
from ecoops.engines.metrics.settings import NO_FILTERS, Filters, Period

if TYPE_CHECKING:
    from ecoops.engines.metrics.snapshot import Snapshot

# METRICS.md "overlays": the opportunities closed in the period, plus those open on the date (the
# open count of pipeline velocity).
OVERLAY_OPPORTUNITIES = """
SELECT
    opportunity_crm_id, classification, amount, created_on, close_date, is_closed, is_won,
    CASE WHEN is_won THEN close_date - created_on END AS days_to_close
FROM scoped_opportunity
WHERE NOT is_closed OR close_date BETWEEN $start AND $end
"""
# win rate = won / closed; average deal size = mean won amount; sales cycle = mean and median days to
# close of the won; velocity = open count x win rate x average deal size / mean sales cycle.
OVERLAYS = """
WITH per_class AS (
    SELECT
        c.classification,
        c.position,
        count(*) FILTER (WHERE NOT r.is_closed) AS open_opportunities,
        count(*) FILTER (WHERE r.is_closed) AS closed,
        count(*) FILTER (WHERE r.is_won) AS won,
        avg(r.amount) FILTER (WHERE r.is_won) AS average_deal_size,
        avg(r.days_to_close) AS mean_days_to_close,
        median(r.days_to_close) AS median_days_to_close
    FROM opportunity_class c
    LEFT JOIN records r USING (classification)
    GROUP BY c.classification, c.position
)
SELECT
    classification,
    open_opportunities,
    closed,
    won,
    won / nullif(closed, 0) AS win_rate,
    average_deal_size,
    mean_days_to_close,
    median_days_to_close,
    open_opportunities * (won / nullif(closed, 0)) * average_deal_size / nullif(mean_days_to_close, 0)
        AS pipeline_velocity
FROM per_class
ORDER BY position
"""

# METRICS.md "days in stage": a stage change opens a visit to its stage, which the next change ends
# (same-day changes in recorded order, one packed sort key); the visits that ended in the period (and by
# the as-of date).
# Only opportunities with a change in the period can have such a visit, so only their history is read.
ENDED_VISITS = """
WITH changed_in_period AS (
    SELECT DISTINCT opportunity_id
    FROM input_opportunity_stage_changes
    WHERE changed_on BETWEEN $start AND $end AND changed_on <= as_of()
), visit AS (
    SELECT
        c.opportunity_id AS opportunity_key,
        c.stage,
        c.changed_on AS entered_on,
        lead(c.changed_on) OVER (PARTITION BY c.opportunity_id ORDER BY day_and_id(c.changed_on, c.change_id))
            AS left_on
    FROM input_opportunity_stage_changes c
    SEMI JOIN changed_in_period USING (opportunity_id)
    WHERE c.changed_on <= as_of()
)
SELECT
    o.opportunity_crm_id, o.classification, v.stage, v.entered_on, v.left_on,
    v.left_on - v.entered_on AS days
FROM visit v
JOIN scoped_opportunity o USING (opportunity_key)
WHERE v.left_on BETWEEN $start AND $end
"""
# Every class gets a row for every stage visited, so a class without visits shows "no data".
DAYS_IN_STAGE = """
SELECT c.classification, s.stage, count(r.days) AS visits, avg(r.days) AS mean_days
FROM opportunity_class c
CROSS JOIN (SELECT DISTINCT stage FROM records) s
LEFT JOIN records r ON r.classification = c.classification AND r.stage = s.stage
GROUP BY c.classification, c.position, s.stage
ORDER BY c.position, s.stage
"""


def partner_vs_direct(snapshot: Snapshot, period: Period, filters: Filters = NO_FILTERS) -> Explained:
    """Win rate, average deal size, days to close and pipeline velocity for each class."""
    return snapshot.explained(
        filters, OVERLAY_OPPORTUNITIES, OVERLAYS, {"start": period.start, "end": period.end}
    )


def days_in_stage(snapshot: Snapshot, period: Period, filters: Filters = NO_FILTERS) -> Explained:
    """Mean days per stage and class, over the stage visits that ended in `period`."""
    return snapshot.explained(
        filters, ENDED_VISITS, DAYS_IN_STAGE, {"start": period.start, "end": period.end}
    )
