"""Candidate pairs for name matching, a bounded number per record: one-edit twins and sorted neighbours."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ecoops.engines.matching.relations import on_both_sides, query

# Two kinds of blocking, whose pairs are pooled:
# - One-edit twins (`_one_edit_pairs`): name cores equal, or one inserted, dropped, changed or swapped
#   letter apart, wherever the edit is. Sorted neighbourhood alone misses most of these at a million
#   records: a typo in the middle of a short name puts hundreds of names between the twins in any order.
# - Sorted neighbourhood (`_neighbours`): both sides sorted together by name core and country, each of our
#   records paired with the `window` partner records before and after it. It finds names more than one
#   edit apart that still sort close (several typos late in a name, a word added at the end), and twins
#   of a name too common for the one-edit join.

_SORTED_SQL = """
SELECT side, row FROM (
  SELECT 0 AS side, row, id, name_core, country FROM ours WHERE name_core IS NOT NULL
  UNION ALL
  SELECT 1 AS side, row, id, name_core, country FROM theirs WHERE name_core IS NOT NULL
)
-- Country second keeps same-country twins of a common name together. Ours sort first among equal keys,
-- so an exact twin is the first neighbour after; ids, not row numbers, break ties, so the pairs do not
-- depend on the order of the rows.
ORDER BY name_core, country NULLS FIRST, side, id, row
"""

# Name cores are read as their first this many bytes: enough to tell companies apart.
_KEY_BYTES = 16
_SLICE_ROWS = 1 << 16  # rows per numpy pass, so the matrices stay small enough to be reused
# A name shorter than this gets no one-letter-shorter keys: "ibm" less a letter is every two-letter name.
_MIN_EDIT_BYTES = 5
# A name held by more records than this on one side (a family of namesakes, or thousands of "Unknown")
# would make its one-edit block the product of both sides' records: there the stronger key of name and
# country decides, so "Acme" in 30 countries still meets "Acmee" in Germany, and only the German "Acme"s.
# A name on more than this many records of one side in one country, or with no country, is left to sorted
# neighbourhood, which still pairs its exact name + country twins first.
MAX_RECORDS_PER_NAME = 25
_HASH_BASE = np.uint64(0x9E3779B97F4A7C15)  # odd, so powers of it never vanish modulo 2**64
_LENGTH_SALT = np.uint64(0xD6E8FEB86659FD93)

# Keys of names on few records join on the key; keys of a name on many (`big`) join on key and country.
# Two equal cores share every key (the whole core's and each one-shorter one's): the whole core's match
# alone is kept for them, so a pair of twins is one row, not up to 17 (`_edit_keys`'s `core` and `whole`).
_ONE_EDIT_SQL = """
SELECT o.row AS our_row, t.row AS their_row
FROM (SELECT key, core, whole, row FROM ours WHERE NOT big) AS o
  JOIN (SELECT key, core, row FROM theirs WHERE NOT big) AS t USING (key)
WHERE o.whole OR o.core <> t.core
UNION ALL
SELECT o.row, t.row
FROM (SELECT key, core, whole, country, row FROM ours WHERE big) AS o JOIN theirs AS t USING (key, country)
WHERE o.whole OR o.core <> t.core
UNION ALL
SELECT o.row, t.row
FROM (SELECT key, core, whole, country, row FROM ours WHERE NOT big) AS o
  JOIN (SELECT key, core, country, row FROM theirs WHERE big) AS t USING (key, country)
WHERE o.whole OR o.core <> t.core
"""


def _core_bytes(cores: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Name cores' UTF-8 bytes as numpy: the data (one 0 byte appended), each row's start, and its length
    cut to `_KEY_BYTES`."""
    n = len(cores)
    offsets = np.frombuffer(cores.buffers()[1], dtype=np.int32)[cores.offset : cores.offset + n + 1]
    data = np.frombuffer(cores.buffers()[2], dtype=np.uint8) if cores.buffers()[2] else np.zeros(0, np.uint8)
    lengths = np.minimum(np.diff(offsets), _KEY_BYTES).astype(np.int64)
    return np.append(data, np.uint8(0)), offsets[:-1].astype(np.int64), lengths


def _edit_keys(accounts: pa.Table) -> pa.Table:
    """The deletion neighbourhood of each name core: a 64-bit hash of the core itself and of each string
    it gives with one byte left out (`key`), beside the record's `row`.

    Two cores one edit apart share a key: an inserted or dropped letter (the longer one less it is the
    shorter one), a changed letter (both less it), a swapped pair (each less one of the two). The hashes
    are polynomial, so every one-byte-shorter string's hash comes from prefix hashes in a few whole-array
    steps; a collision only adds a candidate, which scoring then turns away.
    """
    cores = pc.fill_null(accounts.column("name_core").combine_chunks(), "")
    data, begins, lengths = _core_bytes(cores)
    rows = accounts.column("row").to_numpy()
    codes = cores.dictionary_encode().indices.to_numpy()
    big = np.take(np.bincount(codes), codes) > MAX_RECORDS_PER_NAME
    usable = (lengths > 0) & ~(big & _crowded_in_country(codes, accounts.column("country"), big))
    powers = np.concatenate(([np.uint64(1)], np.cumprod(np.full(_KEY_BYTES, _HASH_BASE, np.uint64))))
    # Filled in place, slice by slice: lists of parts to concatenate would hold every key twice.
    total = int(usable.sum()) + int(lengths[usable & (lengths >= _MIN_EDIT_BYTES)].sum())
    keys, owners, filled = np.empty(total, np.uint64), np.empty(total, np.int64), 0
    cores, wholes = np.empty(total, np.uint64), np.zeros(total, bool)  # each key's core's hash; whole or not
    with np.errstate(over="ignore"):  # arithmetic modulo 2**64 is the point
        for start in range(0, len(rows), _SLICE_ROWS):
            part = slice(start, start + _SLICE_ROWS)
            begin, length, usable_here, row = begins[part], lengths[part], usable[part], rows[part]
            prefix = np.zeros((_KEY_BYTES + 1, len(row)), np.uint64)  # prefix[j]: hash of the first j bytes
            for j in range(_KEY_BYTES):
                byte = np.take(data, np.where(j < length, begin + j, len(data) - 1))
                prefix[j + 1] = prefix[j] * _HASH_BASE + byte
            whole = prefix[length, np.arange(len(row))]
            # Leaving out byte i: hash(first i) * B^(L-1-i) + hash(last L-1-i) = (prefix[i] - prefix[i+1])
            # * B^(L-1-i) + whole, as prefix[i+1] = prefix[i] * B + byte i. Salted by length, so that one
            # length's hashes stay apart from another's.
            shorter = np.empty((_KEY_BYTES, len(row)), np.uint64)
            salt = (length - 1).astype(np.uint64) * _LENGTH_SALT
            for i in range(_KEY_BYTES):
                power = np.take(powers, np.maximum(length - 1 - i, 0))
                shorter[i] = ((prefix[i] - prefix[i + 1]) * power + whole) ^ salt
            edited = (np.arange(_KEY_BYTES)[:, None] < length) & (usable_here & (length >= _MIN_EDIT_BYTES))
            for key, owner, core, is_whole in (
                (
                    whole[usable_here] ^ length[usable_here].astype(np.uint64) * _LENGTH_SALT,
                    row[usable_here],
                    whole[usable_here],
                    True,
                ),
                (
                    shorter[edited],
                    np.broadcast_to(row, shorter.shape)[edited],
                    np.broadcast_to(whole, shorter.shape)[edited],
                    False,
                ),
            ):
                at = slice(filled, filled + len(key))
                keys[at], owners[at], cores[at], wholes[at] = key, owner, core, is_whole
                filled += len(key)
    # Which rows are of a big name, and their countries, for the join (see `_ONE_EDIT_SQL`).
    big_rows = np.zeros(int(rows.max()) + 1 if len(rows) else 0, dtype=bool)
    big_rows[rows[big]] = True
    country_of_row = np.full(len(big_rows), -1, dtype=np.int32)
    country_of_row[rows] = _country_numbers(accounts.column("country"))
    big_keys, countries = np.take(big_rows, owners), np.take(country_of_row, owners)
    return pa.table(
        {"key": keys, "core": cores, "whole": wholes, "row": owners, "big": big_keys, "country": countries}
    )


def _country_numbers(countries: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """ISO alpha-2 codes as numbers equal on both sides (the two letters' code points), -1 for none."""
    distinct = pc.unique(countries).drop_null()
    numbers = np.array([ord(c[0]) * 65536 + ord(c[-1]) for c in distinct.to_pylist()] + [-1], dtype=np.int32)
    at = pc.fill_null(pc.index_in(countries, value_set=distinct), len(distinct))
    result: np.ndarray = numbers[at.to_numpy(zero_copy_only=False)]
    return result


def _crowded_in_country(
    codes: np.ndarray, countries: pa.ChunkedArray | pa.Array, big: np.ndarray
) -> np.ndarray:
    """Whether each record of a big name is one of more than `MAX_RECORDS_PER_NAME` records of its name in
    its country, or has no country: no stronger key can bound its block."""
    crowded = np.zeros(len(codes), dtype=bool)
    at = np.flatnonzero(big)
    if len(at) == 0:
        return crowded
    country = pc.take(countries, pa.array(at)).combine_chunks()
    country_codes = pc.fill_null(country.dictionary_encode().indices, -1).to_numpy(zero_copy_only=False)
    combined = codes[at].astype(np.int64) * (len(at) + 1) + country_codes + 1
    _, inverse, counts = np.unique(combined, return_inverse=True, return_counts=True)
    crowded[at] = (counts[inverse] > MAX_RECORDS_PER_NAME) | (country_codes < 0)
    return crowded


def _one_edit_pairs(ours: pa.Table, theirs: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    our_keys, their_keys = on_both_sides(_edit_keys, ours, theirs)
    pairs = query(_ONE_EDIT_SQL, ours=our_keys, theirs=their_keys)
    return pairs.column("our_row").to_numpy(), pairs.column("their_row").to_numpy()


def _neighbours(ours: pa.Table, theirs: pa.Table, window: int) -> tuple[np.ndarray, np.ndarray]:
    placed = query(_SORTED_SQL, ours=ours, theirs=theirs)
    side = placed.column("side").to_numpy()
    row = placed.column("row").to_numpy()
    their_rows = row[side == 1]  # partner records in sort order
    # For each of our records: how many partner records sort before it.
    position = np.cumsum(side)[side == 0]
    offsets = np.arange(-window, window)
    at = position[:, None] + offsets[None, :]
    inside = (at >= 0) & (at < len(their_rows))
    our_rows = np.broadcast_to(row[side == 0][:, None], at.shape)
    return our_rows[inside], np.take(their_rows, at[inside])


def name_candidates(ours: pa.Table, theirs: pa.Table, *, window: int) -> pa.Table:
    """Distinct (`our_row`, `their_row`) pairs worth comparing by name, from keyed accounts tables: one-edit
    twins (equal name cores included), and each of our records' `window` partner neighbours before and
    after it in name order. Exact name + country twins sort together, ours just before theirs, so they
    are first neighbours even when too common for the one-edit join.
    """
    found = [_one_edit_pairs(ours, theirs), _neighbours(ours, theirs, window)]
    our_rows = np.concatenate([pair[0] for pair in found]).astype(np.int64, copy=False)
    their_rows = np.concatenate([pair[1] for pair in found]).astype(np.int64, copy=False)
    # One int64 per pair, so the duplicates of both blockings go in one sort.
    width = np.int64(their_rows.max() + 1 if len(their_rows) else 1)
    # A plain sort, not np.unique: numpy 2's hash-based unique is many times slower on millions.
    pairs = np.sort(our_rows * width + their_rows)
    distinct = pairs[np.concatenate(([True], pairs[1:] != pairs[:-1]))] if len(pairs) else pairs
    return pa.table({"our_row": distinct // width, "their_row": distinct % width})


_CROWDED_SQL = f"""
SELECT 'ours' AS side, name_core FROM ours WHERE name_core IS NOT NULL
GROUP BY name_core HAVING count(*) > {MAX_RECORDS_PER_NAME}
UNION ALL
SELECT 'theirs', name_core FROM theirs WHERE name_core IS NOT NULL
GROUP BY name_core HAVING count(*) > {MAX_RECORDS_PER_NAME}
"""  # noqa: S608


def crowded_names(ours: pa.Table, theirs: pa.Table) -> pa.Table:
    """The name cores (`side`, `name_core`) on more than `MAX_RECORDS_PER_NAME` records of a side, whose
    one-edit twins were looked for in the same country only (see `_ONE_EDIT_SQL`): the sentence of a pair
    of such a name says so."""
    return query(_CROWDED_SQL, ours=ours, theirs=theirs)
