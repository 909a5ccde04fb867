"""The records as they stood on one date, in an in-memory DuckDB: the state every figure is read from.

Taking a snapshot rebuilds opportunity state, touch verdicts, classes and partner spells once, so the
figure functions are short queries over shared tables, and a whole dashboard costs one rebuild.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pyarrow as pa

from ecoops.engines.metrics.classification import build_classification
from ecoops.engines.metrics.database import connection, text_list
from ecoops.engines.metrics.inputs import MetricsInputs
from ecoops.engines.metrics.life_cycle import build_partner_spells
from ecoops.engines.metrics.results import Explained
from ecoops.engines.metrics.settings import NO_FILTERS, Filters, MetricsSettings
from ecoops.engines.metrics.state import build_opportunity_state

# Every partner any record names, so "no partner filter" also keeps partners missing from `partners`.
KNOWN_PARTNERS = """
CREATE TEMP TABLE known_partner AS
SELECT partner_id FROM input_partners
UNION SELECT partner_id FROM input_touches
UNION SELECT partner_id FROM input_partner_stage_changes
UNION SELECT partner_id FROM input_referrals
UNION SELECT partner_id FROM input_overlaps
"""

# Partners matching every partner dimension given; program and tier must hold in the same membership.
FILTERED_PARTNERS = """
CREATE OR REPLACE TEMP VIEW scoped_partner AS
SELECT k.partner_id
FROM known_partner k
LEFT JOIN input_partners p USING (partner_id)
WHERE (NOT EXISTS (FROM filter_partner_id) OR k.partner_id IN (FROM filter_partner_id))
  AND (NOT EXISTS (FROM filter_partner_type) OR p.partner_type IN (FROM filter_partner_type))
  AND (NOT EXISTS (FROM filter_partner_owner_id) OR p.owner_id IN (FROM filter_partner_owner_id))
  AND ((NOT EXISTS (FROM filter_program_id) AND NOT EXISTS (FROM filter_tier_id)) OR EXISTS (
        SELECT 1 FROM input_memberships m
        WHERE m.partner_id = k.partner_id
          AND (NOT EXISTS (FROM filter_program_id) OR m.program_id IN (FROM filter_program_id))
          AND (NOT EXISTS (FROM filter_tier_id) OR m.tier_id IN (FROM filter_tier_id))))
"""

FILTERED_OWNER_OPPORTUNITIES = """
CREATE OR REPLACE TEMP VIEW owner_scoped_opportunity AS
SELECT * FROM opportunity_as_of
WHERE NOT EXISTS (FROM filter_opportunity_owner) OR owner IN (FROM filter_opportunity_owner)
"""

# A partner filter keeps the partner-attached opportunities it credits to a selected partner; direct
# ones stay, as the baseline the partner classes are compared with.
FILTERED_OPPORTUNITIES = """
CREATE OR REPLACE TEMP VIEW scoped_opportunity AS
SELECT * FROM owner_scoped_opportunity
WHERE classification = 'direct' OR opportunity_key IN (
    SELECT c.opportunity_key FROM credited_partner c JOIN scoped_partner USING (partner_id))
"""

# The memberships of the selected partners, narrowed to the programs and tiers asked for.
SCOPED_MEMBERSHIPS = """
CREATE OR REPLACE TEMP VIEW scoped_membership AS
SELECT * FROM input_memberships
WHERE partner_id IN (FROM scoped_partner)
  AND (NOT EXISTS (FROM filter_program_id) OR program_id IN (FROM filter_program_id))
  AND (NOT EXISTS (FROM filter_tier_id) OR tier_id IN (FROM filter_tier_id))
"""

ALL_PARTNERS = "CREATE OR REPLACE TEMP VIEW scoped_partner AS SELECT partner_id FROM known_partner"
ALL_OWNER_OPPORTUNITIES = "CREATE OR REPLACE TEMP VIEW owner_scoped_opportunity AS FROM opportunity_as_of"
ALL_OPPORTUNITIES = "CREATE OR REPLACE TEMP VIEW scoped_opportunity AS FROM owner_scoped_opportunity"


class Snapshot:
    """The inputs as of `as_of`, loaded once; figure functions read it through `fetch` and the scopes."""

    def __init__(self, inputs: MetricsInputs, as_of: date, settings: MetricsSettings) -> None:
        self.as_of = as_of
        self.settings = settings
        self.connection = connection()
        self._filters: Filters | None = None
        con = self.connection
        for name in MetricsInputs.__dataclass_fields__:
            con.register(f"input_{name}", getattr(inputs, name))
        self._define_settings()
        build_opportunity_state(con)
        build_classification(con)
        build_partner_spells(con)
        con.execute(KNOWN_PARTNERS)
        self.use(NO_FILTERS)

    def _define_settings(self) -> None:
        """Expose the date and the settings to SQL as constant macros."""
        s = self.settings
        con = self.connection
        con.execute(f"CREATE TEMP MACRO as_of() AS DATE '{self.as_of.isoformat()}'")
        con.execute(f"CREATE TEMP MACRO sourcing_grace_days() AS {int(s.sourcing_grace_days)}")
        con.execute(f"CREATE TEMP MACRO influence_look_back_days() AS {int(s.influence_look_back_days)}")
        con.execute(f"CREATE TEMP MACRO half_life_days() AS {float(s.time_decay_half_life_days)!r}")
        # A day and an id (< 2**32) packed into one integer that sorts like the pair: one max() or
        # min() then finds the latest change or the earliest touch, twice as fast as over a struct.
        con.execute("CREATE TEMP MACRO day_and_id(day, id) AS (day - DATE '0001-01-01') * 4294967296 + id")
        con.execute("CREATE TEMP MACRO id_of(packed) AS packed % 4294967296")
        con.execute(
            "CREATE TEMP MACRO day_of(packed) AS DATE '0001-01-01' + CAST(packed // 4294967296 AS INTEGER)"
        )
        # The trailing 12 months (METRICS.md) are the dates after year_before(), up to as_of().
        con.execute("CREATE TEMP MACRO year_before() AS CAST(as_of() - INTERVAL 12 MONTH AS DATE)")
        # Intervals [start, stop) of overlaps and partner spells: stop is the first day they no longer hold.
        con.execute(
            "CREATE TEMP MACRO holds_on_as_of(start, stop) AS "
            "start <= as_of() AND (stop IS NULL OR stop > as_of())"
        )
        con.execute(
            "CREATE TEMP MACRO holds_in_trailing_year(start, stop) AS "
            "start <= as_of() AND (stop IS NULL OR stop > year_before() + 1)"
        )
        memberships = {
            "is_counted_status": s.counted_touch_statuses,
            "is_partner_customer_population": s.partner_customer_populations,
            "is_eql_population": s.eql_our_populations,
            "is_open_opportunity_population": s.open_opportunity_populations,
        }
        for macro, values in memberships.items():
            con.execute(f"CREATE TEMP MACRO {macro}(value) AS list_contains({text_list(values)}, value)")

    def use(self, filters: Filters) -> None:
        """Point the scoped views (`scoped_partner`, `scoped_opportunity`, …) at `filters`."""
        if filters == self._filters:
            return
        con = self.connection
        values: dict[str, tuple[Any, ...]] = {
            "filter_partner_id": filters.partner_ids,
            "filter_program_id": filters.program_ids,
            "filter_tier_id": filters.tier_ids,
            "filter_partner_owner_id": filters.partner_owner_ids,
        }
        for name, ids in values.items():
            con.register(name, pa.table({"value": pa.array(ids, pa.int64())}))
        con.register("filter_partner_type", pa.table({"value": pa.array(filters.partner_types, pa.string())}))
        con.register(
            "filter_opportunity_owner", pa.table({"value": pa.array(filters.opportunity_owners, pa.string())})
        )
        con.execute(FILTERED_PARTNERS if filters.selects_partners else ALL_PARTNERS)
        con.execute(FILTERED_OWNER_OPPORTUNITIES if filters.opportunity_owners else ALL_OWNER_OPPORTUNITIES)
        con.execute(FILTERED_OPPORTUNITIES if filters.selects_partners else ALL_OPPORTUNITIES)
        con.execute(SCOPED_MEMBERSHIPS)
        self._filters = filters

    def fetch(self, sql: str, **params: object) -> pa.Table:
        """Run one query against the snapshot and return its rows as an Arrow table."""
        return self.connection.sql(sql, params=params or None).to_arrow_table()

    def explained(
        self,
        filters: Filters,
        records_sql: str,
        figures_sql: str,
        params: dict[str, object] | None = None,
        figure_params: dict[str, object] | None = None,
    ) -> Explained:
        """Figures from `figures_sql` over `records_sql` (visible to it as `records`), in one query;
        the records themselves are fetched, under the same filters, only when first read."""
        self.use(filters)
        records_params = params or {}
        figures = figures_sql.lstrip()
        # Both parts are this package's own SQL constants; values travel as parameters.
        with_records = "WITH records AS (" + records_sql + ")\n"
        combined = (
            with_records + ", " + figures[4:]
            if figures.upper().startswith("WITH")
            else with_records + figures
        )
        table = self.fetch(combined, **records_params, **(figure_params or {}))

        def fetch_records() -> pa.Table:
            self.use(filters)
            return self.fetch(records_sql, **records_params)

        return Explained(table, fetch_records)

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> Snapshot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def take_snapshot(inputs: MetricsInputs, as_of: date, settings: MetricsSettings | None = None) -> Snapshot:
    """Load `inputs` as they stood on `as_of` (records dated later are ignored)."""
    return Snapshot(inputs, as_of, settings or MetricsSettings())
