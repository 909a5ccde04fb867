"""Which touches count for an opportunity, and its class: partner-sourced, partner-influenced or direct.

METRICS.md "Opportunities and their partner classification"; the verdict on every touch is kept, so an
opportunity can show why a touch did or did not count.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb

from ecoops.engines.metrics.database import text_list
from ecoops.engines.metrics.inputs import DELIVERY_KINDS, INFLUENCE_KINDS, SOURCING_KINDS
from ecoops.engines.metrics.results import Explained
from ecoops.engines.metrics.settings import NO_FILTERS, Filters

if TYPE_CHECKING:
    from ecoops.engines.metrics.snapshot import Snapshot

CLASSES = ("sourced", "influenced", "direct")

# METRICS.md "A partner touch links a partner to an opportunity (or to its account)": a touch that
# names an opportunity links to it alone; one that names only an account links to each of the
# account's opportunities. Each link carries the opportunity's dates the rules below read.
LINKED_TOUCHES = """
CREATE TEMP VIEW linked_touch AS
SELECT t.*, touch_class(t.kind) AS touch_class, 'opportunity' AS linked_via,
    o.opportunity_key, o.opportunity_crm_id AS linked_crm_id,
    o.created_on, coalesce(o.close_date, as_of()) AS window_end
FROM input_touches t
JOIN opportunity_state o ON o.opportunity_key = t.opportunity_id
WHERE coalesce(t.opportunity_crm_id, '') <> ''
UNION ALL
SELECT t.*, touch_class(t.kind) AS touch_class, 'account' AS linked_via,
    o.opportunity_key, o.opportunity_crm_id AS linked_crm_id,
    o.created_on, coalesce(o.close_date, as_of()) AS window_end
FROM input_touches t
JOIN opportunity_state o ON o.account_crm_id = t.account_crm_id
WHERE coalesce(t.opportunity_crm_id, '') = ''
"""

# METRICS.md "Classification": the first failing rule names why a touch does not count.
# - sourcing touches count up to the created date plus the grace;
# - influence touches count from the created date minus the look-back;
# - nothing after the close date (the as-of date for open ones) counts; delivery never earns credit.
# An account-level touch also needs the look-back, or one old referral would source every later
# opportunity of its account.
TOUCH_VERDICTS = """
CREATE TEMP VIEW touch_verdict AS
SELECT
    l.touch_id,
    l.linked_crm_id AS opportunity_crm_id,
    l.partner_id,
    l.kind,
    l.touch_class,
    l.touched_on,
    l.evidence_type,
    l.evidence_ref,
    l.status,
    l.linked_via,
    l.opportunity_key,
    CASE
        WHEN NOT is_counted_status(l.status) THEN 'status_not_counted'
        WHEN l.touched_on > as_of() THEN 'after_as_of'
        WHEN l.touched_on > l.window_end THEN 'after_close'
        WHEN l.touch_class = 'delivery' THEN 'delivery_no_credit'
        WHEN l.touch_class = 'sourcing' AND l.touched_on > l.created_on + sourcing_grace_days()
            THEN 'after_grace'
        WHEN (l.touch_class = 'influence' OR l.linked_via = 'account')
            AND l.touched_on < l.created_on - influence_look_back_days() THEN 'before_look_back'
        ELSE 'counts'
    END AS verdict
FROM linked_touch l
"""

# The touches that count, with just what classification and attribution read: the rules of
# TOUCH_VERDICTS stated as conditions (tests/engines/metrics/test_classification.py checks both agree),
# because evaluating every verdict costs a third more and conditions on the touch alone are pushed below
# the join. An opportunity is joined on its integer id (`opportunity_key` from here on, see inputs.py).
COUNTING_TOUCHES = """
CREATE TEMP TABLE counting_touch AS
WITH candidate AS (
    SELECT
        touch_id, partner_id, opportunity_id, opportunity_crm_id, account_crm_id, touched_on,
        touch_class(kind) AS touch_class
    FROM input_touches
    WHERE is_counted_status(status) AND touched_on <= as_of() AND touch_class(kind) <> 'delivery'
)
SELECT t.touch_id, o.opportunity_key, t.partner_id, t.touch_class, t.touched_on
FROM candidate t
JOIN opportunity_state o ON o.opportunity_key = t.opportunity_id
WHERE coalesce(t.opportunity_crm_id, '') <> ''
  AND t.touched_on <= coalesce(o.close_date, as_of())
  AND CASE WHEN t.touch_class = 'sourcing' THEN t.touched_on <= o.created_on + sourcing_grace_days()
      ELSE t.touched_on >= o.created_on - influence_look_back_days() END
UNION ALL
SELECT t.touch_id, o.opportunity_key, t.partner_id, t.touch_class, t.touched_on
FROM candidate t
JOIN opportunity_state o ON o.account_crm_id = t.account_crm_id
WHERE coalesce(t.opportunity_crm_id, '') = ''
  AND t.touched_on <= coalesce(o.close_date, as_of())
  AND t.touched_on >= o.created_on - influence_look_back_days()
  AND (t.touch_class <> 'sourcing' OR t.touched_on <= o.created_on + sourcing_grace_days())
"""

# METRICS.md "Classification": sourced when a sourcing touch counts, the source partner being the
# earliest one's (ties: the lower partner id); influenced when not sourced and an influence touch
# counts; direct otherwise.
OPPORTUNITY_CLASSES = """
UPDATE opportunity_state
SET classification = CASE WHEN t.source_partner_id IS NOT NULL THEN 'sourced' ELSE 'influenced' END,
    source_partner_id = t.source_partner_id
FROM (
    SELECT
        opportunity_key,
        id_of(min(day_and_id(touched_on, partner_id)) FILTER (WHERE touch_class = 'sourcing'))
            AS source_partner_id,
        bool_or(touch_class = 'influence') AS influenced
    FROM counting_touch
    GROUP BY opportunity_key
) t
WHERE opportunity_state.opportunity_key = t.opportunity_key
  AND (t.source_partner_id IS NOT NULL OR t.influenced)
"""
# Each opportunity on the date with its class, keyed as the touches are. The classes are filled in
# place (state.py creates every opportunity `direct`): updating the classified rows costs half of
# copying a million rows with their strings into a new table.
OPPORTUNITIES_AS_OF = """
CREATE TEMP VIEW opportunity_as_of AS FROM opportunity_state
"""

# Whom the class credits: the source partner of a sourced opportunity, each partner with a counting
# influence touch on an influenced one. Partner filters and partner KPIs go by this credit.
CREDITED_PARTNERS = """
CREATE TEMP TABLE credited_partner AS
SELECT opportunity_key, source_partner_id AS partner_id, 'source' AS credit
FROM opportunity_as_of
WHERE classification = 'sourced'
UNION ALL
SELECT DISTINCT t.opportunity_key, t.partner_id, 'influence' AS credit
FROM counting_touch t
JOIN opportunity_as_of o USING (opportunity_key)
WHERE o.classification = 'influenced'
"""

# The partners credited with each won opportunity of the trailing 12 months: what partners needed for
# $X and the forecast count as conversions. Built once here, where the won ones are picked before the
# join (DuckDB would otherwise join the credits with the memberships first, a million rows more).
TRAILING_YEAR_WINS = """
CREATE TEMP TABLE trailing_year_win AS
SELECT c.partner_id, o.opportunity_key, o.opportunity_crm_id, o.account_crm_id, o.amount, o.close_date
FROM (FROM opportunity_as_of WHERE is_won AND close_date > year_before()) o
JOIN credited_partner c USING (opportunity_key)
"""

# The three classes in display order, so every class gets a row even when no opportunity has it.
CLASS_LIST = """
CREATE TEMP TABLE opportunity_class AS
SELECT unnest($classes) AS classification, generate_subscripts($classes, 1) AS position
"""

CLASS_COUNTS = """
SELECT c.classification, count(r.opportunity_crm_id) AS opportunities
FROM opportunity_class c
LEFT JOIN records r USING (classification)
GROUP BY c.classification, c.position
ORDER BY c.position
"""


def build_classification(connection: duckdb.DuckDBPyConnection) -> None:
    """Create the touch verdicts, `counting_touch`, `opportunity_as_of`, `credited_partner` and
    `trailing_year_win`."""
    connection.execute(
        "CREATE TEMP MACRO touch_class(kind) AS CASE"
        f" WHEN list_contains({text_list(SOURCING_KINDS)}, kind) THEN 'sourcing'"
        f" WHEN list_contains({text_list(INFLUENCE_KINDS)}, kind) THEN 'influence'"
        f" WHEN list_contains({text_list(DELIVERY_KINDS)}, kind) THEN 'delivery' END"
    )
    connection.execute(CLASS_LIST, {"classes": list(CLASSES)})
    for statement in (
        LINKED_TOUCHES,
        TOUCH_VERDICTS,
        COUNTING_TOUCHES,
        OPPORTUNITY_CLASSES,
        OPPORTUNITIES_AS_OF,
        CREDITED_PARTNERS,
        TRAILING_YEAR_WINS,
    ):
        connection.execute(statement)


def classify_opportunities(snapshot: Snapshot, filters: Filters = NO_FILTERS) -> Explained:
    """Each opportunity existing on the snapshot date with its class; figures count each class."""
    return snapshot.explained(
        filters, "SELECT * EXCLUDE (opportunity_key) FROM scoped_opportunity", CLASS_COUNTS
    )
