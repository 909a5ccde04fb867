"""Each opportunity's state on the as-of date, rebuilt from its stage history (METRICS.md "Opportunities").

Kept apart because every other figure starts from it: what was open, closed, won, and when it closed.
"""

from __future__ import annotations

import duckdb

# METRICS.md "Opportunities": a stage change opens a visit to its stage, which the next change ends.
# Only changes on or before the as-of date exist; same-day changes keep the order they were recorded in.
STAGE_VISITS = """
CREATE TEMP TABLE stage_visit AS
SELECT
    opportunity_crm_id,
    stage,
    is_closed,
    is_won,
    changed_on AS entered_on,
    lead(changed_on) OVER (PARTITION BY opportunity_crm_id ORDER BY changed_on, change_id) AS left_on
FROM input_opportunity_stage_changes
WHERE changed_on <= as_of()
"""

# METRICS.md "Opportunities": the state on the as-of date is that of the latest stage change on or
# before it, so a closed-then-reopened opportunity is open from the reopening, and its close date is
# the date of the change that (last) closed it. An opportunity with a history whose first change is
# later than the date was still open. Only an opportunity with no history at all falls back on its
# record: closed from its close date on.
OPPORTUNITY_STATE = """
CREATE TEMP TABLE opportunity_state AS
WITH current_visit AS (
    SELECT * FROM stage_visit WHERE left_on IS NULL
), with_history AS (
    SELECT DISTINCT opportunity_crm_id FROM input_opportunity_stage_changes
), resolved AS (
    SELECT
        o.crm_id AS opportunity_crm_id,
        o.account_crm_id,
        o.amount,
        o.created_on,
        o.owner,
        h.opportunity_crm_id IS NOT NULL AS has_history,
        v.stage AS visit_stage,
        coalesce(v.is_closed, false) AS visit_closed,
        coalesce(v.is_closed AND v.is_won, false) AS visit_won,
        v.entered_on AS visit_entered_on,
        o.stage AS record_stage,
        o.is_closed AS record_is_closed,
        o.is_closed AND o.close_date <= as_of() AS record_closed,
        o.is_won AS record_won,
        o.close_date AS record_close_date
    FROM input_opportunities o
    LEFT JOIN current_visit v ON v.opportunity_crm_id = o.crm_id
    LEFT JOIN with_history h ON h.opportunity_crm_id = o.crm_id
    WHERE o.created_on <= as_of()
)
SELECT
    opportunity_crm_id,
    account_crm_id,
    amount,
    created_on,
    owner,
    -- Without history, a record closed after the date does not say which stage it was in then.
    CASE WHEN has_history THEN visit_stage WHEN record_closed OR NOT record_is_closed THEN record_stage END
        AS stage,
    CASE WHEN has_history THEN visit_closed ELSE record_closed END AS is_closed,
    CASE WHEN has_history THEN visit_won ELSE record_closed AND record_won END AS is_won,
    CASE
        WHEN has_history THEN CASE WHEN visit_closed THEN visit_entered_on END
        WHEN record_closed THEN record_close_date
    END AS close_date
FROM resolved
"""


def build_opportunity_state(connection: duckdb.DuckDBPyConnection) -> None:
    """Create `stage_visit` and `opportunity_state` on a connection that defines the `as_of()` macro."""
    connection.execute(STAGE_VISITS)
    connection.execute(OPPORTUNITY_STATE)
