"""What two accounts have in common (name similarity, domain and country agreement), and the score from it."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz import process
from rapidfuzz.distance import OSA, Indel

from ecoops.engines.matching.domains import domain_label
from ecoops.engines.matching.relations import query

# The score starts from the name similarity (0-1, see `NameComparer`) and is moved by the domain and country
# evidence, by the fixed amounts below; it is clipped to 0-1. The amounts are set so that one typo in a
# mid-length name in the same country still passes the default threshold, while the same name in two
# countries, or siblings that differ by a word, do not.

DOMAIN_ADJUSTMENT: dict[str, float] = {
    "same": 0.10,  # one registrable domain
    "alias": 0.10,  # one domain once the workspace's aliases are applied
    "same_label": 0.05,  # one brand on two suffixes: acme.com and acme.de
    # One label inside the other with a word around it (acme.com, getacme.com, acme-us.com,
    # acmegroup.com) does not contradict the names, but it is no evidence either: labels are made from
    # names, so "kraasle" and "kraasleveb" differ as names do. One or two letters more ("brimuis.com",
    # "rimuis.us") is not how a company varies its own domain: that is two names a typo apart, each
    # registered by its own company, so it counts as "different".
    "label_contains": 0.0,
    "missing": 0.0,  # either side has none (or only a free-mail one)
    "different": -0.15,  # enough that one name in one country with two unrelated domains stays out
}
COUNTRY_ADJUSTMENT: dict[str, float] = {"same": 0.0, "missing": -0.03, "different": -0.20}

_FEATURES_SQL = """
SELECT p.our_row, p.their_row,
       o.name_key AS our_name_key, t.name_key AS their_name_key,
       o.domain_raw AS our_domain, t.domain_raw AS their_domain,
       o.country AS our_country, t.country AS their_country,
       CASE WHEN o.domain IS NULL OR t.domain IS NULL THEN 'missing'
            WHEN o.domain = t.domain THEN CASE WHEN o.domain_raw = t.domain_raw THEN 'same' ELSE 'alias' END
            WHEN o.domain_label = t.domain_label THEN 'same_label'
            WHEN least(length(o.domain_label), length(t.domain_label)) >= 4
                 AND (contains(o.domain_label, t.domain_label) OR contains(t.domain_label, o.domain_label))
                 AND (abs(length(o.domain_label) - length(t.domain_label)) >= 3
                      OR contains(o.domain_label || t.domain_label, '-'))
            THEN 'label_contains'
            ELSE 'different' END AS domain_agreement,
       CASE WHEN o.country IS NULL OR t.country IS NULL THEN 'missing'
            WHEN o.country = t.country THEN 'same' ELSE 'different' END AS country_agreement,
       p.name_similarity
FROM pairs AS p
JOIN ours AS o ON o.row = p.our_row
JOIN theirs AS t ON t.row = p.their_row
"""


# A word in at least this share of all names (and at least `_COMMON_WORD_MIN` of them) is common: "systems",
# "consulting", "group". Shared common words say little about whether two names are one company, so the
# similarity also compares the names without them. Counted on the two lists being matched, so it adapts
# to the data (a bank's customer list has other common words than a software vendor's).
_COMMON_WORD_SHARE = 1 / 2000
_COMMON_WORD_MIN = 5

_COMMON_WORDS_SQL = """
SELECT word FROM (
  SELECT unnest(string_split(name_key, ' ')) AS word FROM ours WHERE name_key IS NOT NULL
  UNION ALL
  SELECT unnest(string_split(name_key, ' ')) AS word FROM theirs WHERE name_key IS NOT NULL
) GROUP BY word HAVING count(*) >= {min_count}
"""


def distinctive_keys(keys: pa.Array | pa.ChunkedArray, common: list[str]) -> pa.Array:
    """Each name key without its common words; the whole key where that would leave nothing."""
    if isinstance(keys, pa.ChunkedArray):
        keys = keys.combine_chunks()
    if not common:
        return keys
    words = pc.split_pattern(keys, " ")  # keys are words joined by single spaces
    flat = pc.list_flatten(words)
    kept = pc.invert(pc.is_in(flat, value_set=pa.array(common, pa.string())))
    # The kept words, regrouped by the key they came from.
    per_key = np.bincount(
        pc.list_parent_indices(words).to_numpy(),
        weights=kept.to_numpy(zero_copy_only=False),
        minlength=len(keys),
    ).astype(np.int32)
    offsets = pa.array(np.concatenate(([0], np.cumsum(per_key))).astype(np.int32))
    regrouped = pa.ListArray.from_arrays(offsets, pc.filter(flat, kept))
    stripped = pc.binary_join(regrouped, " ")
    result: pa.Array = pc.if_else(pc.and_(pc.is_valid(keys), pc.not_equal(stripped, "")), stripped, keys)
    return result


class NameComparer:
    """Both sides' name keys, held as Python strings once, compared pair by pair by row number.

    The similarity of two names is the mean of three rapidfuzz measures, each 0-1:
    - the normalised Indel similarity of the keys (insertions and deletions: forgiving of a dropped or
      added letter, and of a word added at the end);
    - the normalised OSA similarity (Levenshtein plus adjacent transpositions): a swapped or replaced
      letter costs one edit, not Indel's two, but a length difference costs its full length, so it is
      stricter than Indel on names of different lengths;
    - the Indel similarity of the keys without their common words (`distinctive_keys`): "nexbri
      consulting" and "onnexbri consulting" are less alike than the shared word makes them look.
    Averaging keeps each one's view: a pair passes when the names are close by all three.
    """

    def __init__(self, ours: pa.Table, theirs: pa.Table) -> None:
        names = ours.num_rows + theirs.num_rows
        min_count = max(_COMMON_WORD_MIN, int(names * _COMMON_WORD_SHARE))
        common = query(_COMMON_WORDS_SQL.format(min_count=min_count), ours=ours, theirs=theirs)
        words = common.column("word").to_pylist()
        keys = [side.column("name_key").combine_chunks() for side in (ours, theirs)]
        distinctive = [distinctive_keys(side, words) for side in keys]
        self._names = [side.to_numpy(zero_copy_only=False) for side in keys]
        self._distinctive = [side.to_numpy(zero_copy_only=False) for side in distinctive]
        self._has_common = [
            pc.fill_null(pc.not_equal(d, k), False).to_numpy(zero_copy_only=False)
            for d, k in zip(distinctive, keys, strict=True)
        ]
        self._lengths = [
            pc.fill_null(pc.utf8_length(side), 0).to_numpy(zero_copy_only=False) for side in keys
        ]

    def similarity(
        self, our_rows: np.ndarray, their_rows: np.ndarray, floor: float | np.ndarray = 0.0
    ) -> np.ndarray:
        """Name similarity (0-1, see the class) of each pair: NaN where a name is missing, and 0 where it
        provably stays below `floor` (one for all pairs, or one per pair), so hopeless candidates are
        compared once, not three times.
        """
        our_length, their_length = self._lengths[0][our_rows], self._lengths[1][their_rows]
        missing = (our_length == 0) | (their_length == 0)
        similarity = np.where(missing, np.nan, 0.0)
        present = np.flatnonzero(~missing)
        if len(present) == 0:
            return similarity
        ours, theirs = our_rows[present], their_rows[present]
        floors = np.broadcast_to(np.asarray(floor, dtype=np.float64), our_rows.shape)[present]
        # OSA's distance is at least half Indel's (a replacement or swap is two Indel edits), so its
        # similarity is at most (1 + Indel's) / 2, and the mean of the three at most (1 + Indel's) / 2:
        # a pair whose Indel similarity is under 2 * floor - 1 cannot reach the floor.
        indel_floors = np.maximum(0.0, 2 * floors - 1)
        # ... and Indel's similarity is at most 2 * shorter / (sum of the lengths).
        our_length, their_length = our_length[present], their_length[present]
        best_indel = 2.0 * np.minimum(our_length, their_length) / (our_length + their_length)
        reachable = np.flatnonzero(best_indel >= indel_floors)
        ours, theirs, indel_floors = ours[reachable], theirs[reachable], indel_floors[reachable]
        cutoff = float(indel_floors.min()) if len(indel_floors) else 0.0
        indel = self._compare(Indel.normalized_similarity, self._names, ours, theirs, cutoff)
        close = np.flatnonzero(indel >= indel_floors)
        ours, theirs, indel = ours[close], theirs[close], indel[close]
        osa = self._compare(OSA.normalized_similarity, self._names, ours, theirs)
        # Where neither name has a common word, the distinctive keys are the keys: Indel's value stands.
        distinctive = indel.copy()
        differ = np.flatnonzero(self._has_common[0][ours] | self._has_common[1][theirs])
        distinctive[differ] = self._compare(
            Indel.normalized_similarity, self._distinctive, ours[differ], theirs[differ]
        )
        similarity[present[reachable[close]]] = (indel + osa + distinctive) / 3
        return similarity

    @staticmethod
    def _compare(
        scorer: Callable[..., float],
        keys: list[np.ndarray],
        ours: np.ndarray,
        theirs: np.ndarray,
        cutoff: float = 0.0,
    ) -> np.ndarray:
        if len(ours) == 0:
            return np.zeros(0, dtype=np.float64)
        scores = process.cpdist(
            keys[0][ours], keys[1][theirs], scorer=scorer, score_cutoff=cutoff, workers=-1, dtype=np.float32
        )
        return np.asarray(scores, dtype=np.float64)


def pair_features(pairs: pa.Table, ours: pa.Table, theirs: pa.Table, similarity: np.ndarray) -> pa.Table:
    """Keys and agreements for each (`our_row`, `their_row`) pair of keyed accounts, beside its
    `name_similarity` (from `NameComparer.similarity`, aligned with `pairs`; NaN becomes null).
    The rows come back in no particular order.
    """
    with_similarity = pairs.select(["our_row", "their_row"]).append_column(
        "name_similarity", pa.array(similarity, pa.float64(), from_pandas=True)
    )
    return query(_FEATURES_SQL, pairs=with_similarity, ours=ours, theirs=theirs)


def _shared_codes(ours: pa.ChunkedArray, theirs: pa.ChunkedArray) -> tuple[np.ndarray, pa.Array]:
    """Integer codes of both sides' values (ours first, then theirs) from one dictionary, -1 for null:
    equal values, equal codes. Also the dictionary, so codes of values derived from it can follow."""
    both = pa.chunked_array([*ours.chunks, *theirs.chunks], ours.type).combine_chunks().dictionary_encode()
    return pc.fill_null(both.indices, -1).to_numpy(zero_copy_only=False).astype(np.int32), both.dictionary


class EvidenceBound:
    """The most the domain and country evidence can add to each candidate's name similarity, worked out
    on integer codes so that it is cheap for millions of candidates. Exact except where two different
    domains' labels might contain one another: that is counted as no evidence (0) here, the best it can
    be, and settled by `pair_features` for the few pairs whose names come close enough.
    """

    def __init__(self, ours: pa.Table, theirs: pa.Table) -> None:
        self._split = ours.num_rows  # codes of our rows first, then theirs
        domain, domains = _shared_codes(ours.column("domain"), theirs.column("domain"))
        # A label is a function of its domain: code the dictionary's labels, not every row's.
        label_of = pc.fill_null(domain_label(domains).dictionary_encode().indices, -1).to_numpy(
            zero_copy_only=False
        )
        label = np.where(domain >= 0, np.append(label_of, -1).astype(np.int32)[domain], -1)
        country, _ = _shared_codes(ours.column("country"), theirs.column("country"))
        self._codes = {"domain": domain, "domain_label": label, "country": country}

    def _pairs(
        self, column: str, our_rows: np.ndarray, their_rows: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        codes = self._codes[column]
        return codes[our_rows], codes[self._split + their_rows]

    def most(self, our_rows: np.ndarray, their_rows: np.ndarray) -> np.ndarray:
        """Per pair, the adjustment `match_score` will add at most (see `evidence_adjustment`)."""
        our_domain, their_domain = self._pairs("domain", our_rows, their_rows)
        our_label, their_label = self._pairs("domain_label", our_rows, their_rows)
        both = (our_domain >= 0) & (their_domain >= 0)
        domain = np.select(
            [~both, our_domain == their_domain, our_label == their_label],
            [
                DOMAIN_ADJUSTMENT["missing"],
                max(DOMAIN_ADJUSTMENT["same"], DOMAIN_ADJUSTMENT["alias"]),
                DOMAIN_ADJUSTMENT["same_label"],
            ],
            default=max(DOMAIN_ADJUSTMENT["label_contains"], DOMAIN_ADJUSTMENT["different"]),
        )
        our_country, their_country = self._pairs("country", our_rows, their_rows)
        country = np.select(
            [(our_country < 0) | (their_country < 0), our_country == their_country],
            [COUNTRY_ADJUSTMENT["missing"], COUNTRY_ADJUSTMENT["same"]],
            default=COUNTRY_ADJUSTMENT["different"],
        )
        total: np.ndarray = domain + country
        return total


def _adjustment(agreements: pa.ChunkedArray | pa.Array, table: dict[str, float]) -> np.ndarray:
    codes = pc.index_in(agreements, value_set=pa.array(list(table))).to_numpy(zero_copy_only=False)
    adjustments: np.ndarray = np.asarray(list(table.values()), dtype=np.float64)[codes]
    return adjustments


def evidence_adjustment(features: pa.Table) -> np.ndarray:
    """What the domain and country evidence adds to (or takes from) each pair's name similarity."""
    domain = _adjustment(features.column("domain_agreement"), DOMAIN_ADJUSTMENT)
    country = _adjustment(features.column("country_agreement"), COUNTRY_ADJUSTMENT)
    total: np.ndarray = domain + country
    return total


def match_score(features: pa.Table) -> pa.Array:
    """The confidence (0-1) of each pair in `pair_features` output; 0 where a name is missing."""
    similarity = np.nan_to_num(features.column("name_similarity").to_numpy(zero_copy_only=False), nan=0.0)
    score = similarity + evidence_adjustment(features)
    return pa.array(np.clip(np.round(score, 4), 0.0, 1.0))
