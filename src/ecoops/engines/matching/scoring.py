"""What two accounts have in common (name similarity, domain and country agreement), and the score from it."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz import fuzz, process

from ecoops.engines.matching.relations import query

# The score starts from the name similarity (rapidfuzz's normalised Indel ratio of the name keys, 0-1) and
# is moved by the domain and country evidence, by the fixed amounts below; it is clipped to 0-1. The amounts
# are set so that one typo in a mid-length name in the same country still passes the default threshold
# (0.90), while the same name in two countries, or siblings that differ by a word, do not.

DOMAIN_ADJUSTMENT: dict[str, float] = {
    "same": 0.10,  # one registrable domain
    "alias": 0.10,  # one domain once the workspace's aliases are applied
    "same_label": 0.05,  # one brand on two suffixes: acme.com and acme.de
    # One label inside the other (acme.com, getacme.com) does not contradict the names, but it is no
    # evidence either: labels are made from names, so "kraasle" and "kraasleve" differ as names do.
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
            THEN 'label_contains'
            ELSE 'different' END AS domain_agreement,
       CASE WHEN o.country IS NULL OR t.country IS NULL THEN 'missing'
            WHEN o.country = t.country THEN 'same' ELSE 'different' END AS country_agreement,
       p.name_similarity
FROM pairs AS p
JOIN ours AS o ON o.row = p.our_row
JOIN theirs AS t ON t.row = p.their_row
"""


class NameComparer:
    """Both sides' name keys, held as Python strings once, compared pair by pair by row number."""

    def __init__(self, ours: pa.Table, theirs: pa.Table) -> None:
        self._names = [side.column("name_key").to_numpy(zero_copy_only=False) for side in (ours, theirs)]
        self._lengths = [
            pc.fill_null(pc.utf8_length(side.column("name_key")), 0).to_numpy(zero_copy_only=False)
            for side in (ours, theirs)
        ]

    def similarity(self, our_rows: np.ndarray, their_rows: np.ndarray, floor: float = 0.0) -> np.ndarray:
        """Normalised Indel similarity (0-1) of each pair's names: NaN where a name is missing, and 0 where
        the lengths alone keep it below `floor` (so hopeless candidates are never compared).
        """
        our_length, their_length = self._lengths[0][our_rows], self._lengths[1][their_rows]
        missing = (our_length == 0) | (their_length == 0)
        # The best Indel ratio two strings of these lengths can reach.
        bound = 2.0 * np.minimum(our_length, their_length) / np.maximum(our_length + their_length, 1)
        worth = ~missing & (bound >= floor)
        similarity = np.where(missing, np.nan, 0.0)
        if worth.any():
            ratios = process.cpdist(
                self._names[0][our_rows[worth]],
                self._names[1][their_rows[worth]],
                scorer=fuzz.ratio,
                score_cutoff=floor * 100,  # lets rapidfuzz stop early on pairs that cannot make it
                workers=-1,
                dtype=np.float32,
            )
            similarity[worth] = np.asarray(ratios, dtype=np.float64) / 100.0
        return similarity


def pair_features(pairs: pa.Table, ours: pa.Table, theirs: pa.Table, similarity: np.ndarray) -> pa.Table:
    """Keys and agreements for each (`our_row`, `their_row`) pair of keyed accounts, beside its
    `name_similarity` (from `NameComparer.similarity`, aligned with `pairs`; NaN becomes null).
    """
    with_similarity = pairs.select(["our_row", "their_row"]).append_column(
        "name_similarity", pa.array(similarity, pa.float64(), from_pandas=True)
    )
    return query(_FEATURES_SQL, pairs=with_similarity, ours=ours, theirs=theirs)


def _adjustment(agreements: pa.ChunkedArray | pa.Array, table: dict[str, float]) -> np.ndarray:
    codes = pc.index_in(agreements, value_set=pa.array(list(table))).to_numpy(zero_copy_only=False)
    adjustments: np.ndarray = np.asarray(list(table.values()), dtype=np.float64)[codes]
    return adjustments


def match_score(features: pa.Table) -> pa.Array:
    """The confidence (0-1) of each pair in `pair_features` output; 0 where a name is missing."""
    similarity = np.nan_to_num(features.column("name_similarity").to_numpy(zero_copy_only=False), nan=0.0)
    score = (
        similarity
        + _adjustment(features.column("domain_agreement"), DOMAIN_ADJUSTMENT)
        + _adjustment(features.column("country_agreement"), COUNTRY_ADJUSTMENT)
    )
    return pa.array(np.clip(np.round(score, 4), 0.0, 1.0))
