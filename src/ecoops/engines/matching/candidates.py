"""Candidate pairs for name matching, a bounded number per record, by sorted neighbourhood."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

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
# finds a typo near the start; the letters in order (`anagram`, see `_anagram_keys`) find a swap of two
# letters, or a changed letter, anywhere in the name, which the first two miss in the middle of a name.
SORT_KEYS = ("name_core || chr(1) || coalesce(country, '')", "reverse(name_core)", "anagram")

# An anagram key holds the first this many bytes of a name's core, sorted, then the country's two letters.
_ANAGRAM_BYTES = 24
_ANAGRAM_CHUNK = 1 << 18  # rows per numpy pass, so the index matrices stay small


def _anagram_keys(accounts: pa.Table) -> pa.Array:
    """Each record's name core with its bytes in order, padded with 0xff (so "abc" sorts beside "abcd",
    not among three-letter names), then its country code: fixed-width binary, built with numpy because
    DuckDB's per-row list functions took three times as long as the other two sort keys together.

    Bytes, not letters: a letter outside ASCII is sorted as its UTF-8 bytes, which is no letter order
    but is the same on both sides, and that is all a blocking key needs.
    """
    cores = pc.fill_null(accounts.column("name_core").combine_chunks(), "")
    countries = pc.fill_null(accounts.column("country").combine_chunks().cast(pa.string()), "")
    n = len(cores)
    offsets = np.frombuffer(cores.buffers()[1], dtype=np.int32)[cores.offset : cores.offset + n + 1]
    data = np.frombuffer(cores.buffers()[2], dtype=np.uint8) if cores.buffers()[2] else np.zeros(0, np.uint8)
    data = np.concatenate((data, np.full(1, 0xFF, np.uint8)))  # where the padding is read from
    keys = np.empty((n, _ANAGRAM_BYTES + 2), dtype=np.uint8)
    width = np.arange(_ANAGRAM_BYTES, dtype=np.int64)
    for start in range(0, n, _ANAGRAM_CHUNK):
        stop = min(start + _ANAGRAM_CHUNK, n)
        begin = offsets[start:stop].astype(np.int64)
        length = np.minimum(offsets[start + 1 : stop + 1] - begin, _ANAGRAM_BYTES)
        at = np.where(width[None, :] < length[:, None], begin[:, None] + width[None, :], len(data) - 1)
        keys[start:stop, :_ANAGRAM_BYTES] = np.sort(data[at], axis=1)
    country_bytes = pc.utf8_rpad(pc.utf8_slice_codeunits(countries, 0, 2), 2, " ").cast(pa.binary(2))
    keys[:, _ANAGRAM_BYTES:] = np.frombuffer(country_bytes.buffers()[1], np.uint8).reshape(n, 2)
    return pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(_ANAGRAM_BYTES + 2), n, [None, pa.py_buffer(keys.tobytes())]
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
    ours, theirs = (side.append_column("anagram", _anagram_keys(side)) for side in (ours, theirs))
    found = [_neighbours(ours, theirs, key, window) for key in SORT_KEYS]
    our_rows = np.concatenate([pair[0] for pair in found]).astype(np.int64, copy=False)
    their_rows = np.concatenate([pair[1] for pair in found]).astype(np.int64, copy=False)
    # One int64 per pair, so the two orders' duplicates go in one sort.
    width = np.int64(their_rows.max() + 1 if len(their_rows) else 1)
    # A plain sort, not np.unique: numpy 2's hash-based unique is many times slower on millions.
    pairs = np.sort(our_rows * width + their_rows)
    distinct = pairs[np.concatenate(([True], pairs[1:] != pairs[:-1]))] if len(pairs) else pairs
    return pa.table({"our_row": distinct // width, "their_row": distinct % width})
