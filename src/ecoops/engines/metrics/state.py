"""Each opportunity's state on the as-of date, rebuilt from its stage history (METRICS.md "Opportunities").

Kept apart because every other figure starts from it: what was open, closed, won, and when it closed.
"""

from __future__ import annotations

import duckdb

# METRICS.md "Opportunities": the state on the as-of date is that of the latest stage change on or
# before it (same-day changes in the order they were recorded), so a closed-then-reopened opportunity
# is open from the reopening, and its close date is the date of the change that last closed it. An
# opportunity whose history starts after the date was still open then. Only one with no history at
# all falls back on its record: closed from its close date on. Every opportunity starts `direct`;
# classification.py fills in the partner classes once the touches are read.
# One pass over the history finds whether there is any and the latest change, packed as
# day_and_id(day, change id) x 4 + closed x 2 + won, so a single max() carries its flags along.
OPPORTUNITY_STATE = """
CREATE TEMP TABLE opportunity_state AS
WITH latest AS (
    SELECT
        opportunity_id,
        max(day_and_id(changed_on, change_id) * 4 + CAST(is_closed AS INTEGER) * 2 + CAST(is_won AS INTEGER))
            FILTER (WHERE changed_on <= as_of()) AS change
    FROM input_opportunity_stage_changes
    WHERE opportunity_id IS NOT NULL
    GROUP BY opportunity_id
), resolved AS (
    SELECT
        o.*,
        l.opportunity_id IS NOT NULL AS has_history,
        coalesce(l.change // 2 % 2 = 1, false) AS closed_by_history,
        coalesce(l.change % 2 = 1, false) AS won_by_history,
        day_of(l.change // 4) AS changed_on,
        o.is_closed AND o.close_date <= as_of() AS closed_by_record
    FROM input_opportunities o
    LEFT JOIN latest l USING (opportunity_id)
    WHERE o.created_on <= as_of()
)
SELECT
    opportunity_id AS opportunity_key,
    crm_id AS opportunity_crm_id,
    account_crm_id,
    amount,
    created_on,
    owner,
    CASE WHEN has_history THEN closed_by_history ELSE closed_by_record END AS is_closed,
    CASE WHEN has_history THEN closed_by_history AND won_by_history ELSE closed_by_record AND is_won END
        AS is_won,
    CASE
        WHEN has_history THEN CASE WHEN closed_by_history THEN changed_on END
        WHEN closed_by_record THEN close_date
    END AS close_date,
    'direct' AS classification,
    NULL::BIGINT AS source_partner_id
FROM resolved
"""


def build_opportunity_state(connection: duckdb.DuckDBPyConnection) -> None:
    """Create `opportunity_state` on a connection that defines the `as_of()` and packing macros."""
    connection.execute(OPPORTUNITY_STATE)
