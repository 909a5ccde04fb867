"""Candidate pairs for name matching, a bounded number per record, by sorted neighbourhood.

Sorted neighbourhood is the blocking: both sides are sorted together by a name key, and each of our
records is paired with the `window` partner records just before and just after it. Two orders are
used, the blocking key with the country appended and the blocking key reversed, so that a typo near
the start of a name still lands next to its twin in one of them. Exact name + country twins sort
together, ours just before theirs, so they are always a record's first neighbours: no separate
join is needed to find them. A record gets at most `4 * window` candidates, however large the input.
"""

from __future__ import annotations

import pyarrow as pa

from ecoops.engines.matching.relations import query

_NEIGHBOURS_SQL = """
WITH keyed AS (
  SELECT 0 AS side, row, id, {key} AS sort_key FROM ours WHERE name_core IS NOT NULL
  UNION ALL
  SELECT 1 AS side, row, id, {key} AS sort_key FROM theirs WHERE name_core IS NOT NULL
), placed AS (
  -- For a partner record: its rank among partner records. For ours: how many partner records sort
  -- before it. Ours sort first among equal keys, so an exact twin is the first neighbour after;
  -- ids, not row numbers, break ties, so the pairs do not depend on the order of the rows.
  SELECT side, row, sum(side) OVER (ORDER BY sort_key, side, id, row ROWS UNBOUNDED PRECEDING) AS position
  FROM keyed
)
SELECT o.row AS our_row, t.row AS their_row
FROM (SELECT row, position FROM placed WHERE side = 0) AS o
CROSS JOIN range({first_offset}, {last_offset} + 1) AS offsets(step)
JOIN (SELECT row, position FROM placed WHERE side = 1) AS t ON t.position = o.position + offsets.step
"""

# The two sort orders: country appended keeps same-country twins of a common name together.
SORT_KEYS = ("name_core || chr(1) || coalesce(country, '')", "reverse(name_core)")


def name_candidates(ours: pa.Table, theirs: pa.Table, *, window: int) -> pa.Table:
    """Distinct (`our_row`, `their_row`) pairs worth comparing by name, from keyed accounts tables."""
    parts = [
        _NEIGHBOURS_SQL.format(key=key, first_offset=1 - window, last_offset=window) for key in SORT_KEYS
    ]
    return query(" UNION ".join(f"({part})" for part in parts), ours=ours, theirs=theirs)
