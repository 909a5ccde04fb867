"""Candidate pairs for name matching, a bounded number per record, by sorted neighbourhood."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ecoops.engines.matching.relations import query

# DuckDB sorts (on every core); the neighbours are then picked by position with numpy.
_SORTED_SQL = """
SELECT side, row FROM (
  SELECT 0 AS side, row, id, {key} AS sort_key FROM ours WHERE name_core IS NOT NULL
  UNION ALL
  SELECT 1 AS side, row, id, {key} AS sort_key FROM theirs WHERE name_core IS NOT NULL
)
-- Ours sort first among equal keys, so an exact twin is the first neighbour after; ids, not row
-- numbers, break ties, so the pairs do not depend on the order of the rows.
ORDER BY sort_key, side, id, row
"""

# The sort orders. Country appended keeps same-country twins of a common name together. The reversed key
# finds a typo near the start; the letters in alphabetical order (an anagram key) find a swap of two
# letters, or a changed letter, anywhere in the name, which the first two miss in the middle of a name.
SORT_KEYS = (
    "name_core || chr(1) || coalesce(country, '')",
    "reverse(name_core)",
    "array_to_string(list_sort(string_split(name_core, '')), '') || chr(1) || coalesce(country, '')",
)


def _neighbours(ours: pa.Table, theirs: pa.Table, key: str, window: int) -> tuple[np.ndarray, np.ndarray]:
    placed = query(_SORTED_SQL.format(key=key), ours=ours, theirs=theirs)
    side = placed.column("side").to_numpy()
    row = placed.column("row").to_numpy()
    their_rows = row[side == 1]  # partner records in sort order
    # For each of our records: how many partner records sort before it.
    position = np.cumsum(side)[side == 0]
    offsets = np.arange(-window, window)
    at = position[:, None] + offsets[None, :]
    inside = (at >= 0) & (at < len(their_rows))
    our_rows = np.broadcast_to(row[side == 0][:, None], at.shape)
    return our_rows[inside], their_rows[at[inside]]


def name_candidates(ours: pa.Table, theirs: pa.Table, *, window: int) -> pa.Table:
    """Distinct (`our_row`, `their_row`) pairs worth comparing by name, from keyed accounts tables.

    Sorted neighbourhood is the blocking: both sides are sorted together by a name key, and each of
    our records is paired with the `window` partner records just before and just after it. Three
    orders are used (`SORT_KEYS`): the key with the country appended, the key reversed, and its letters
    sorted, so that a typo near the start, or a swap in the middle, still lands next to its twin in one
    of them. Exact name + country twins sort together, ours just before theirs, so they are always first
    neighbours: no separate join is needed to find them. A record gets at most `2 * window *
    len(SORT_KEYS)` candidates, however large the input.
    """
    found = [_neighbours(ours, theirs, key, window) for key in SORT_KEYS]
    our_rows = np.concatenate([pair[0] for pair in found]).astype(np.int64)
    their_rows = np.concatenate([pair[1] for pair in found]).astype(np.int64)
    # One int64 per pair, so the two orders' duplicates go in one sort.
    width = np.int64(their_rows.max() + 1 if len(their_rows) else 1)
    # A plain sort, not np.unique: numpy 2's hash-based unique is many times slower on millions.
    pairs = np.sort(our_rows * width + their_rows)
    distinct = pairs[np.concatenate(([True], pairs[1:] != pairs[:-1]))] if len(pairs) else pairs
    return pa.table({"our_row": distinct // width, "their_row": distinct % width})
