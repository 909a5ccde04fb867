"""Partner life-cycle KPIs from the dated stage history: partners per stage, time to recruit, tenure.

A partner is *signed* while its stage is signed or later and not churned; each unbroken run of such
stages is a *spell*. A partner that churns and re-signs has two spells (see docs/metrics.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from ecoops.engines.metrics.inputs import PARTNER_STAGES, SIGNED_STAGES
from ecoops.engines.metrics.results import Explained
from ecoops.engines.metrics.settings import NO_FILTERS, Filters, Period

if TYPE_CHECKING:
    from ecoops.engines.metrics.snapshot import Snapshot

# Partner stage changes up to the date, numbered in the order they happened (same-day ones as recorded).
PARTNER_CHANGES = """
CREATE TEMP TABLE partner_change AS
SELECT
    partner_id,
    to_stage,
    changed_on,
    row_number() OVER (PARTITION BY partner_id ORDER BY changed_on, change_id) AS seq,
    to_stage IN (FROM signed_stage) AS is_signed
FROM input_partner_stage_changes
WHERE changed_on <= as_of()
"""

# A spell begins at a change into a signed stage from an unsigned one (or from nothing) and ends at
# the next change out of the signed stages; starts and ends alternate, so the k-th of each pair up.
# Recruiting for a spell began at the first change into `recruiting` since the previous spell ended.
PARTNER_SPELLS = """
CREATE TEMP TABLE partner_spell AS
WITH marked AS (
    SELECT *, coalesce(lag(is_signed) OVER (PARTITION BY partner_id ORDER BY seq), false) AS was_signed
    FROM partner_change
), boundary AS (
    SELECT partner_id, seq, changed_on, is_signed AS starts,
        row_number() OVER (PARTITION BY partner_id, is_signed ORDER BY seq) AS spell
    FROM marked
    WHERE is_signed <> was_signed
), spell AS (
    SELECT s.partner_id, s.spell, s.changed_on AS signed_on, s.seq AS start_seq,
        e.changed_on AS left_on,
        lag(e.seq) OVER (PARTITION BY s.partner_id ORDER BY s.spell) AS previous_end_seq
    FROM boundary s
    LEFT JOIN boundary e ON e.partner_id = s.partner_id AND e.spell = s.spell AND NOT e.starts
    WHERE s.starts
)
SELECT
    sp.partner_id,
    sp.spell,
    sp.signed_on,
    sp.left_on,
    (SELECT min(c.changed_on) FROM partner_change c
     WHERE c.partner_id = sp.partner_id AND c.to_stage = 'recruiting'
       AND c.seq < sp.start_seq AND c.seq >= coalesce(sp.previous_end_seq, 0)) AS recruiting_began_on
FROM spell sp
"""

# METRICS.md "partners per stage as of a date": the stage of each partner's latest change.
STAGE_OF_PARTNERS = """
SELECT partner_id, to_stage AS stage, changed_on AS since
FROM partner_change
WHERE partner_id IN (FROM scoped_partner)
QUALIFY seq = max(seq) OVER (PARTITION BY partner_id)
ORDER BY partner_id
"""
PARTNERS_PER_STAGE = """
SELECT s.stage, count(r.partner_id) AS partners
FROM (SELECT unnest($stages) AS stage) s
LEFT JOIN records r USING (stage)
GROUP BY s.stage
ORDER BY array_position($stages, s.stage)
"""

# METRICS.md "time to recruit": signed date - date recruiting began, for each signing in the period.
SIGNINGS = """
SELECT partner_id, spell, recruiting_began_on, signed_on, signed_on - recruiting_began_on AS days_to_recruit
FROM partner_spell
WHERE signed_on BETWEEN $start AND $end AND partner_id IN (FROM scoped_partner)
ORDER BY partner_id, spell
"""
TIME_TO_RECRUIT = """
SELECT
    count(*) AS signings,
    count(days_to_recruit) AS measured,
    avg(days_to_recruit) AS mean_days,
    median(days_to_recruit) AS median_days
FROM records
"""

# METRICS.md "tenure": (left date or as-of date) - signed date, summed over a partner's spells;
# "retention": the first spell still unbroken 12 months after it began, over partners whose first
# signing is at least 12 months before the date.
TENURES = """
WITH per_partner AS (
    SELECT
        partner_id,
        min(signed_on) AS first_signed_on,
        arg_min(left_on, spell) AS first_left_on,
        count(*) AS spells,
        CAST(sum(coalesce(left_on, as_of()) - signed_on) AS BIGINT) AS tenure_days
    FROM partner_spell
    WHERE partner_id IN (FROM scoped_partner)
    GROUP BY partner_id
)
SELECT
    *,
    CAST(first_signed_on + INTERVAL 12 MONTH AS DATE) <= as_of() AS in_retention_cohort,
    CASE WHEN CAST(first_signed_on + INTERVAL 12 MONTH AS DATE) <= as_of()
        THEN first_left_on IS NULL OR first_left_on > CAST(first_signed_on + INTERVAL 12 MONTH AS DATE)
    END AS retained
FROM per_partner
ORDER BY partner_id
"""
TENURE_AND_RETENTION = """
SELECT
    count(*) AS signed_partners,
    avg(tenure_days) AS mean_tenure_days,
    count(*) FILTER (WHERE in_retention_cohort) AS retention_cohort,
    count(*) FILTER (WHERE retained) AS retained,
    count(*) FILTER (WHERE retained) / nullif(count(*) FILTER (WHERE in_retention_cohort), 0)
        AS retention_rate
FROM records
"""


def build_partner_spells(connection: duckdb.DuckDBPyConnection) -> None:
    """Create `partner_change` and `partner_spell` as of the connection's `as_of()`."""
    connection.register("signed_stage", pa.table({"value": pa.array(SIGNED_STAGES, pa.string())}))
    connection.execute(PARTNER_CHANGES)
    connection.execute(PARTNER_SPELLS)


def partners_per_stage(snapshot: Snapshot, filters: Filters = NO_FILTERS) -> Explained:
    """How many partners stand in each life-cycle stage on the snapshot date."""
    return snapshot.explained(
        filters, STAGE_OF_PARTNERS, PARTNERS_PER_STAGE, figure_params={"stages": list(PARTNER_STAGES)}
    )


def time_to_recruit(snapshot: Snapshot, period: Period, filters: Filters = NO_FILTERS) -> Explained:
    """Days from recruiting to signing over the signings in `period`; unmeasured when never recruited."""
    return snapshot.explained(filters, SIGNINGS, TIME_TO_RECRUIT, {"start": period.start, "end": period.end})


def tenure_and_retention(snapshot: Snapshot, filters: Filters = NO_FILTERS) -> Explained:
    """Average tenure of the partners ever signed, and 12-month retention of those signed a year ago."""
    return snapshot.explained(filters, TENURES, TENURE_AND_RETENTION)
