"""What two accounts have in common (name similarity, domain and country agreement), and the score from it.

The score starts from the name similarity (rapidfuzz's normalised Indel ratio of the name keys, 0-1)
and is moved by the domain and country evidence, by the fixed amounts below; it is clipped to 0-1.
The amounts are set so that one typo in a mid-length name in the same country still passes the
default threshold (0.90), while the same name in two countries, or siblings that differ by a word,
do not.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz import fuzz, process

from ecoops.engines.matching.relations import query

DOMAIN_ADJUSTMENT: dict[str, float] = {
    "same": 0.10,  # one registrable domain
    "alias": 0.10,  # one domain once the workspace's aliases are applied
    "same_label": 0.05,  # one brand on two suffixes: acme.com and acme.de
    "label_contains": 0.05,  # one label inside the other: acme.com and getacme.com, acme-de.com
    "missing": 0.0,  # either side has none (or only a free-mail one)
    "different": -0.10,
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
       -- The best Indel ratio two strings of these lengths can reach: pairs below the floor are skipped.
       CASE WHEN o.name_key IS NOT NULL AND t.name_key IS NOT NULL
            THEN 2.0 * least(length(o.name_key), length(t.name_key))
                 / (length(o.name_key) + length(t.name_key)) END AS similarity_bound
FROM pairs AS p
JOIN ours AS o ON o.row = p.our_row
JOIN theirs AS t ON t.row = p.their_row
"""


def name_similarity(ours: pa.Array, theirs: pa.Array) -> np.ndarray:
    """Normalised Indel similarity (0-1) of aligned, non-null name keys."""
    if len(ours) == 0:
        return np.zeros(0, dtype=np.float64)
    ratios = process.cpdist(
        ours.to_numpy(zero_copy_only=False),
        theirs.to_numpy(zero_copy_only=False),
        scorer=fuzz.ratio,
        workers=-1,
        dtype=np.float32,
    )
    return np.asarray(ratios, dtype=np.float64) / 100.0


def pair_features(
    pairs: pa.Table, ours: pa.Table, theirs: pa.Table, *, similarity_floor: float = 0.0
) -> pa.Table:
    """Keys, agreements and `name_similarity` for each (`our_row`, `their_row`) pair of keyed accounts.

    `name_similarity` is null where a name is missing, and 0 where the lengths alone rule out reaching
    `similarity_floor` (so candidate scoring skips hopeless pairs without computing them).
    """
    features = query(_FEATURES_SQL, pairs=pairs, ours=ours, theirs=theirs).combine_chunks()
    bound = features.column("similarity_bound")
    similarity = np.where(pc.is_null(bound).to_numpy(zero_copy_only=False), np.nan, 0.0)
    worth = pc.fill_null(pc.greater_equal(bound, similarity_floor), False)
    at = np.flatnonzero(worth.to_numpy(zero_copy_only=False))
    if len(at):
        similarity[at] = name_similarity(
            pc.filter(features.column("our_name_key"), worth).combine_chunks(),
            pc.filter(features.column("their_name_key"), worth).combine_chunks(),
        )
    return features.drop_columns(["similarity_bound"]).append_column(
        "name_similarity", pa.array(similarity, pa.float64(), from_pandas=True)
    )


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
