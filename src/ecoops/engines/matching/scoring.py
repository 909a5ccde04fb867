"""What two accounts have in common (name similarity, domain and country agreement), and the score from it."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz import process
from rapidfuzz.distance import OSA, Indel, Levenshtein

from ecoops.engines.matching.legal_forms import STRUCTURE_WORDS
from ecoops.engines.matching.names import ROMAN_NUMERALS
from ecoops.engines.matching.relations import project, query
from ecoops.engines.matching.weights import FIXED, Weights

# The score starts from the name similarity (0-1, see `NameComparer`) and is moved by the domain, country
# and structure-word evidence, by the adjustments of a `Weights` (weights.py: fixed, or estimated from the
# two lists); it is clipped to 0-1.
# Numbers in names must agree ("Acme 3" / "Acme 7", "Fund II" / "Fund III", "Studio 54" / "Studio"):
# a pair whose numbers differ is never a name match, whatever else agrees.

_FEATURES_SQL = """
SELECT our_row, their_row, o_id AS our_id, t_id AS their_id,
       o_name_key AS our_name_key, t_name_key AS their_name_key,
       o_domain_raw AS our_domain, t_domain_raw AS their_domain,
       o_country AS our_country, t_country AS their_country,
       CASE WHEN o_domain IS NULL OR t_domain IS NULL THEN 'missing'
            WHEN o_domain = t_domain THEN CASE WHEN o_domain_raw = t_domain_raw THEN 'same' ELSE 'alias' END
            WHEN o_domain_label = t_domain_label THEN 'same_label'
            WHEN least(length(o_domain_label), length(t_domain_label)) >= 4
                 AND (contains(o_domain_label, t_domain_label) OR contains(t_domain_label, o_domain_label))
                 AND (abs(length(o_domain_label) - length(t_domain_label)) >= 3
                      OR contains(o_domain_label || t_domain_label, '-'))
                 AND o_structure IS NOT DISTINCT FROM t_structure
                 -- Two "Acme Holding"s, one on acme-holding.com and one on acme.com: the label with the
                 -- names' own structure word is the holding's site, the bare one the company's.
                 AND NOT (o_structure IS NOT NULL AND regexp_matches(
                       CASE WHEN length(o_domain_label) > length(t_domain_label)
                            THEN replace(o_domain_label, t_domain_label, '')
                            ELSE replace(t_domain_label, o_domain_label, '') END,
                       '^-?(?:{structure_words})-?$'))
            THEN 'label_contains'
            ELSE 'different' END AS domain_agreement,
       CASE WHEN o_country IS NULL AND t_country IS NULL THEN 'missing'
            WHEN o_country IS NULL THEN CASE WHEN {o_form_excludes} THEN 'different'
                                             WHEN {o_form_names} THEN 'legal_form' ELSE 'missing' END
            WHEN t_country IS NULL THEN CASE WHEN {t_form_excludes} THEN 'different'
                                             WHEN {t_form_names} THEN 'legal_form' ELSE 'missing' END
            WHEN o_country = t_country THEN 'same' ELSE 'different' END AS country_agreement,
       CASE WHEN o_country IS NOT NULL AND t_country IS NOT NULL THEN concat_ws(' and ',
              CASE WHEN o_country_source = 'domain' THEN printf('ours from %s', o_domain_raw) END,
              CASE WHEN t_country_source = 'domain' THEN printf('theirs from %s', t_domain_raw) END)
            WHEN o_country IS NULL AND t_country IS NOT NULL AND {o_form_excludes}
              THEN printf('ours "%s" is no legal form of %s', o_legal_forms, t_country)
            WHEN t_country IS NULL AND o_country IS NOT NULL AND {t_form_excludes}
              THEN printf('theirs "%s" is no legal form of %s', t_legal_forms, o_country)
            WHEN o_country IS NULL AND t_country IS NOT NULL AND {o_form_names}
              THEN printf('ours "%s" is a legal form of %s', o_legal_forms, t_country)
            WHEN t_country IS NULL AND o_country IS NOT NULL AND {t_form_names}
              THEN printf('theirs "%s" is a legal form of %s', t_legal_forms, o_country)
       END AS country_from_domain,
       CASE WHEN o_structure IS NOT DISTINCT FROM t_structure THEN 'same'
            -- A word on one side only, and neither record's site names a group or a holding.
            WHEN (o_structure IS NULL OR t_structure IS NULL) AND NOT regexp_matches(
                   concat_ws(' ', o_domain_label, t_domain_label), '{structure_words}')
              THEN 'added'
            ELSE 'differs' END AS structure_agreement,
       o_structure AS our_structure, t_structure AS their_structure,
       CASE WHEN o_numbers IS DISTINCT FROM t_numbers THEN 'different'
            WHEN o_numbers IS NULL THEN 'none' ELSE 'same' END AS number_agreement,
       o_numbers AS our_numbers, t_numbers AS their_numbers,
       name_similarity{passed}
FROM pairs
"""
# A record with no country whose legal forms belong to few countries ("sa", "gmbh"; `form_countries`) is
# not a company of a country outside them, unless the other record carries a form of its countries too
# (a "Persimmon plc" listed in Finland is what the list says it is).
_FORM_EXCLUDES = """({a}_form_countries IS NOT NULL
  AND NOT list_contains(string_split({a}_form_countries, ' '), {b}_country)
  AND NOT coalesce(list_has_any(string_split({a}_form_countries, ' '), string_split({b}_form_countries, ' ')),
                   false))"""
# ... and one whose forms belong to few countries, the other's among them, is as good as in that country.
_FORM_NAMES = "list_contains(string_split({a}_form_countries, ' '), {b}_country)"
# What `pair_features` takes from each side's keyed accounts for each pair.
_SIDE_COLUMNS = (
    "id",
    "name_key",
    "structure",
    "numbers",
    "domain_raw",
    "domain",
    "domain_label",
    "country",
    "country_source",
    "legal_forms",
    "form_countries",
)


# A word in at least this share of all distinct names (and at least `_COMMON_WORD_MIN` of them) is
# common: "systems", "consulting". Shared common words say little about whether two names are one
# company, so the
# similarity also compares the names without them. Counted on the two lists being matched, so it adapts
# to the data (a bank's customer list has other common words than a software vendor's).
_COMMON_WORD_SHARE = 1 / 2000
_COMMON_WORD_MIN = 5

# A word one edit from a common word of `_COMMON_TYPO_MIN` letters or more is that word mistyped
# ("Daikin Indstries", "Zurich Wnsurance"): it is left out of the distinctive key with it, or a typo in a
# common word would leave the only word the two names' distinctive keys do not share.
_COMMON_TYPO_MIN = 6

# Words are counted once per distinct name, less its numbers: a company's numbered siblings and its
# namesakes in other countries ("Dollar General", "Dollar General 87", "Dollar General" in France) are one
# name, so a family of look-alikes does not make its own words common.
_COMMON_WORDS_SQL = """
WITH stems AS (
  SELECT DISTINCT
    trim(regexp_replace(' ' || replace(name_key, ' ', '  ') || ' ', ' (?:[0-9]+|{roman}) ', ' ', 'g')) AS stem
  FROM (SELECT name_key FROM ours UNION ALL SELECT name_key FROM theirs) WHERE name_key IS NOT NULL
), words AS (
  SELECT word, count(*) AS names
  FROM (SELECT unnest(string_split(stem, ' ')) AS word FROM stems WHERE stem <> '')
  WHERE word <> '' GROUP BY word
), threshold AS (
  SELECT greatest({min_count}, count(*) * {share}) AS names FROM stems
), common AS MATERIALIZED (
  SELECT word FROM words WHERE names >= (SELECT names FROM threshold)
), rare AS (
  SELECT word FROM words WHERE length(word) >= {typo_min} - 1 AND names < (SELECT names FROM threshold)
), ends AS (
  -- The lengths a word one edit from a long common word has; one edit leaves its first two letters or
  -- its last two as they were.
  SELECT word AS common, left(word, 2) AS head, right(word, 2) AS tail, length(word) + d AS length
  FROM common, (VALUES (-1), (0), (1)) AS v(d) WHERE length(word) >= {typo_min}
)
SELECT word, NULL AS common FROM common
UNION ALL
(SELECT r.word, e.common FROM rare r JOIN ends e ON left(r.word, 2) = e.head AND length(r.word) = e.length
 UNION
 SELECT r.word, e.common FROM rare r JOIN ends e ON right(r.word, 2) = e.tail AND length(r.word) = e.length)
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


_MAX_SWAPS = 3  # swaps of neighbours counted as one edit each; more are not slips of the fingers
# What `_MAX_SWAPS` swaps add to the mean of the three measures, times the sum of the two names' lengths.
_SWAPS_REACH = 2.0 * _MAX_SWAPS / 3


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
        sql = _COMMON_WORDS_SQL.format(
            min_count=_COMMON_WORD_MIN,
            share=_COMMON_WORD_SHARE,
            roman=ROMAN_NUMERALS,
            typo_min=_COMMON_TYPO_MIN,
        )
        found = query(sql, ours=ours, theirs=theirs)
        near = found.filter(pc.is_valid(found.column("common")))
        edits = process.cpdist(
            near.column("word").to_pylist(),
            near.column("common").to_pylist(),
            scorer=OSA.distance,
            workers=-1,
        )
        words = found.filter(pc.is_null(found.column("common"))).column("word").to_pylist() + [
            word
            for word, distance in zip(near.column("word").to_pylist(), edits, strict=True)
            if distance == 1
        ]
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
        our_length, their_length = np.take(self._lengths[0], our_rows), np.take(self._lengths[1], their_rows)
        missing = (our_length == 0) | (their_length == 0)
        similarity = np.where(missing, np.nan, 0.0)
        # OSA's distance is at least half Indel's (a replacement or swap is two Indel edits), so its
        # similarity is at most (1 + Indel's) / 2, and the mean of the three at most (1 + Indel's) / 2:
        # a pair whose Indel similarity is under 2 * floor - 1 cannot reach the floor.
        indel_floors = np.maximum(0.0, 2 * np.asarray(floor, dtype=np.float64) - 1)
        # ... and Indel's similarity is at most 2 * shorter / (sum of the lengths).
        with np.errstate(invalid="ignore", divide="ignore"):
            best_indel = 2.0 * np.minimum(our_length, their_length) / (our_length + their_length)
            # A swap of neighbours adds 1 / (sum of the lengths) to Indel's similarity (`_swaps_as_one_edit`,
            # up to `_MAX_SWAPS` of them), so the bound above rises by a third of that per swap.
            indel_floors = indel_floors - _SWAPS_REACH / (our_length + their_length)
        reachable = np.flatnonzero(~missing & (best_indel >= indel_floors))
        ours, theirs = np.take(our_rows, reachable), np.take(their_rows, reachable)
        indel_floors = np.take(np.broadcast_to(indel_floors, our_rows.shape), reachable)
        cutoff = float(max(indel_floors.min(), 0.0)) if len(indel_floors) else 0.0
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
        # Swaps count as one Indel edit (`_swaps_as_one_edit`), each adding 2 / (3 * the lengths' sum) to
        # the mean: looked for only in names not equal whose mean comes within `_MAX_SWAPS` of the floor.
        lengths = np.take(our_length, reachable[close]) + np.take(their_length, reachable[close])
        floors = np.take(np.broadcast_to(np.asarray(floor, np.float64), our_rows.shape), reachable[close])
        near = np.flatnonzero(
            (indel < 1) & ((indel + osa + distinctive) / 3 + _SWAPS_REACH / lengths >= floors)
        )
        indel[near] = _swaps_as_one_edit(self._names, ours[near], theirs[near], indel[near])
        differs = np.zeros(len(ours), dtype=bool)
        differs[differ] = True
        near_differ = near[differs[near]]
        near_same = near[~differs[near]]
        distinctive[near_same] = indel[near_same]
        distinctive[near_differ] = _swaps_as_one_edit(
            self._distinctive, ours[near_differ], theirs[near_differ], distinctive[near_differ]
        )
        mean = (indel + osa + distinctive) / 3
        # A pair left under its floor is 0 however it got there: one not looked at for swaps (`near`) would
        # otherwise keep a value short of its swaps', neither the full similarity nor 0.
        similarity[reachable[close]] = np.where(mean >= floors, mean, 0.0)
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
            np.take(keys[0], ours),
            np.take(keys[1], theirs),
            scorer=scorer,
            score_cutoff=cutoff,
            workers=-1,
            dtype=np.float32,
        )
        return np.asarray(scores, dtype=np.float64)


def _swaps_as_one_edit(
    keys: list[np.ndarray], ours: np.ndarray, theirs: np.ndarray, indel: np.ndarray
) -> np.ndarray:
    """Indel similarities with each swap of two neighbouring letters counted as one edit, as a dropped
    letter is, not two: "rakutne" / "rakuten" is one slip of the fingers, as "rakuen" is, while a changed
    letter ("rakuten" / "rakutan") stays two edits (often another name). The swaps are Levenshtein's
    distance less OSA's (OSA counts a swap once, Levenshtein twice), `_MAX_SWAPS` at most."""
    if len(ours) == 0:
        return indel
    pairs = (np.take(keys[0], ours), np.take(keys[1], theirs))
    swaps = process.cpdist(*pairs, scorer=Levenshtein.distance, workers=-1) - process.cpdist(
        *pairs, scorer=OSA.distance, workers=-1
    )
    swaps = np.minimum(swaps, _MAX_SWAPS)
    adjusted = indel.copy()
    for i in np.flatnonzero(swaps > 0):  # few: most close pairs have no swap
        adjusted[i] = min(1.0, indel[i] + swaps[i] / (len(pairs[0][i]) + len(pairs[1][i])))
    return adjusted


def pair_features(pairs: pa.Table, ours: pa.Table, theirs: pa.Table, similarity: np.ndarray) -> pa.Table:
    """Ids, keys and agreements for each (`our_row`, `their_row`) pair of keyed accounts, beside its
    `name_similarity` (from `NameComparer.similarity`, aligned with `pairs`; NaN becomes null), and
    `our_population` / `their_population` where the accounts have populations. Any other column of
    `pairs` is passed through.
    """
    # `row` is each record's position (keyed_accounts), so a take replaces a join.
    columns: dict[str, pa.Array | pa.ChunkedArray] = {c: pairs.column(c) for c in pairs.column_names}
    passed = "".join(f", {c}" for c in pairs.column_names if c not in ("our_row", "their_row"))
    for prefix, side, rows in (
        ("o", ours, pairs.column("our_row")),
        ("t", theirs, pairs.column("their_row")),
    ):
        for column in _SIDE_COLUMNS + (("population",) if "population" in side.column_names else ()):
            columns[f"{prefix}_{column}"] = side.column(column).take(rows)
        if "population" in side.column_names:
            passed += f", {prefix}_population AS {'our' if prefix == 'o' else 'their'}_population"
    columns["name_similarity"] = pa.array(similarity, pa.float64(), from_pandas=True)
    sql = _FEATURES_SQL.format(
        passed=passed,
        structure_words="|".join(sorted(STRUCTURE_WORDS)),
        o_form_excludes=_FORM_EXCLUDES.format(a="o", b="t"),
        t_form_excludes=_FORM_EXCLUDES.format(a="t", b="o"),
        o_form_names=_FORM_NAMES.format(a="o", b="t"),
        t_form_names=_FORM_NAMES.format(a="t", b="o"),
    )
    return query(sql, pairs=pa.table(columns))


# 64-bit hashes stand in for the values: equal values, equal hashes, so the bound is never too low; a
# collision could only raise it, and `pair_features` settles every pair that comes close.
_EVIDENCE_CODES_SQL = """
SELECT CASE WHEN domain IS NULL THEN 0 ELSE hash(domain) END AS domain,
       CASE WHEN domain_label IS NULL THEN 0 ELSE hash(domain_label) END AS domain_label,
       CASE WHEN country IS NULL THEN 0 ELSE hash(country) END AS country,
       CASE WHEN structure IS NULL THEN 0 ELSE hash(structure) END AS structure,
       CASE WHEN numbers IS NULL THEN 0 ELSE hash(numbers) END AS numbers,
       CASE WHEN form_countries IS NULL THEN 0 ELSE 1 END AS has_form
FROM accounts
"""
_EVIDENCE_COLUMNS = ["domain", "domain_label", "country", "structure", "numbers", "form_countries"]
# Below any name similarity plus evidence: a pair whose numbers differ can never reach a threshold.
_NUMBERS_DIFFER = -2.0


class EvidenceBound:
    """The most the domain and country evidence can add to each candidate's name similarity, worked out
    on hashed codes (0 for none) so that it is cheap for millions of candidates. Exact except where two
    different domains' labels might contain one another: that is counted as no evidence (0) here, the
    best it can be, and settled by `pair_features` for the few pairs whose names come close enough.
    """

    def __init__(self, ours: pa.Table, theirs: pa.Table) -> None:
        self._codes = [
            {
                column: codes.column(column).to_numpy()
                for codes in [
                    project(
                        _EVIDENCE_CODES_SQL,
                        "accounts",
                        side.select(_EVIDENCE_COLUMNS),
                    )
                ]
                for column in codes.column_names
            }
            for side in (ours, theirs)
        ]

    def _pairs(
        self, column: str, our_rows: np.ndarray, their_rows: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        return np.take(self._codes[0][column], our_rows), np.take(self._codes[1][column], their_rows)

    def most(self, our_rows: np.ndarray, their_rows: np.ndarray, weights: Weights = FIXED) -> np.ndarray:
        """Per pair, the adjustment `match_score` will add at most (see `evidence_adjustment`)."""
        adjustment, most = weights.adjustment, weights.most
        our_domain, their_domain = self._pairs("domain", our_rows, their_rows)
        our_label, their_label = self._pairs("domain_label", our_rows, their_rows)
        domain = np.where(
            (our_domain == 0) | (their_domain == 0),
            adjustment("domain", "missing"),
            np.where(
                our_domain == their_domain,
                most("domain", "same", "alias"),
                np.where(
                    our_label == their_label,
                    adjustment("domain", "same_label"),
                    most("domain", "label_contains", "different"),
                ),
            ),
        )
        our_country, their_country = self._pairs("country", our_rows, their_rows)
        our_form, their_form = self._pairs("has_form", our_rows, their_rows)
        # A record with no country but a legal form of few countries may be as good as in the other's.
        form_clue = ((our_country == 0) & (our_form == 1)) | ((their_country == 0) & (their_form == 1))
        country = np.where(
            (our_country == 0) | (their_country == 0),
            np.where(
                form_clue & (our_country != their_country),
                most("country", "missing", "legal_form", "different"),
                most("country", "missing", "different"),
            ),
            np.where(
                our_country == their_country,
                adjustment("country", "same"),
                adjustment("country", "different"),
            ),
        )
        our_structure, their_structure = self._pairs("structure", our_rows, their_rows)
        structure = np.where(
            our_structure == their_structure,
            adjustment("structure", "same"),
            most("structure", "added", "differs"),
        )
        our_numbers, their_numbers = self._pairs("numbers", our_rows, their_rows)
        evidence = domain + country + structure
        total: np.ndarray = np.where(our_numbers == their_numbers, evidence, _NUMBERS_DIFFER)
        return total


def evidence_adjustments(features: pa.Table, weights: Weights = FIXED) -> dict[str, np.ndarray]:
    """Per comparison (domain, country, structure), what its level adds to (or takes from) each pair's name
    similarity."""
    adjustments = {}
    for comparison, table in weights.adjustments.items():
        codes = pc.index_in(
            features.column(f"{comparison}_agreement"), value_set=pa.array(list(table))
        ).to_numpy(zero_copy_only=False)
        adjustments[comparison] = np.asarray(list(table.values()), dtype=np.float64)[codes]
    return adjustments


def evidence_adjustment(features: pa.Table, weights: Weights = FIXED) -> np.ndarray:
    """What the domain, country and structure evidence together adds to each pair's name similarity."""
    total: np.ndarray = sum(evidence_adjustments(features, weights).values())  # type: ignore[assignment]
    return total


def match_score(features: pa.Table, weights: Weights = FIXED) -> pa.Array:
    """The confidence (0-1) of each pair in `pair_features` output; 0 where a name is missing or the
    names' numbers differ."""
    similarity = np.nan_to_num(features.column("name_similarity").to_numpy(zero_copy_only=False), nan=0.0)
    score = similarity + evidence_adjustment(features, weights)
    numbers_differ = pc.equal(features.column("number_agreement"), "different").to_numpy(zero_copy_only=False)
    return pa.array(np.where(numbers_differ, 0.0, np.clip(np.round(score, 4), 0.0, 1.0)))
