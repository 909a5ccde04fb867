"""Matching our accounts with a partner's: the stages, the one-to-one resolution and the manual overrides."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ecoops.engines.matching.accounts import keyed_accounts, unkeyed
from ecoops.engines.matching.candidates import MAX_RECORDS_PER_NAME, crowded_names, name_candidates
from ecoops.engines.matching.domains import registrable_domains
from ecoops.engines.matching.relations import in_background, on_both_sides, query
from ecoops.engines.matching.scoring import (
    EvidenceBound,
    NameComparer,
    evidence_adjustments,
    match_score,
    pair_features,
)
from ecoops.engines.matching.weights import FIXED, Weights, estimate

# Stages, in order: (1) same registrable domain; (2) name candidates (one-edit twins and sorted
# neighbours), scored and kept above a precision-first threshold, each record keeping at most its one
# unambiguous best;
# (3) declared parent/subsidiary links; (4) a person's confirmations and rejections, which win over
# everything the stages found.

METHODS = ("domain", "name_country", "fuzzy_name", "hierarchy", "manual")


@dataclass(frozen=True)
class MatchSettings:
    """The knobs of a matching run; the defaults are the ones documented in docs/mapping.md."""

    # A name match needs at least this score. At a million records a one-letter change in a seven-letter
    # name with no domain to go by is as often a different company as a typo (the one-edit blocking
    # finds both), and the pairs scoring 0.85-0.86 are mostly such; 0.86 keeps precision at 0.99 on the
    # benchmark at 1M (docs/mapping.md has the figures).
    threshold: float = 0.86
    window: int = 3  # partner neighbours taken before and after each record in name order
    max_records_per_key: int = 25  # a domain on more records than this on one side is no key
    # The evidence weights: "fixed" (weights.FIXED_ADJUSTMENTS), or "em": Fellegi-Sunter m/u estimated from
    # the two lists' own candidate and domain pairs, starting from (and drawn towards) the fixed ones.
    weights: str = "fixed"

    def __post_init__(self) -> None:
        if self.weights not in ("fixed", "em"):
            raise ValueError(f'weights must be "fixed" or "em", not {self.weights!r}')


@dataclass(frozen=True)
class Overrides:
    """A workspace's own knowledge, as Arrow tables (each optional).

    `confirmed` and `rejected`: `our_id`, `their_id` — always matched / never matched.
    `domain_aliases`: `alias`, `domain` — the alias is the same company as the domain (acme.de → acme.com).
    `parent_links`: `child`, `parent` domains — related companies that are never the same account; a
    pair across a link is reported with method `hierarchy` instead.
    """

    confirmed: pa.Table | None = None
    rejected: pa.Table | None = None
    domain_aliases: pa.Table | None = None
    parent_links: pa.Table | None = None


@dataclass(frozen=True)
class MatchResult:
    """The matched pairs, the records that could not be matched on anything, and how the run went."""

    pairs: pa.Table
    unkeyed_ours: pa.Table
    unkeyed_theirs: pa.Table
    candidate_pairs: int
    stage_seconds: dict[str, float] = field(default_factory=dict)
    stage_cpu_seconds: dict[str, float] = field(default_factory=dict)
    weights: Weights = FIXED


_SCORING_SLICE = 1 << 20  # candidate pairs scored at a time
_EM_SAMPLE = 200_000  # candidate and domain pairs, drawn at random, from which "em" weights are estimated

_PAIR_SCHEMA = pa.schema([("our_row", pa.int64()), ("their_row", pa.int64())])

# Every domain of a record is a key (a website field may hold several URLs). A domain on at most `cap`
# records of each side decides alone; on more (a group's shared site, a reseller's), the stronger key of
# domain and name core decides within it, so a large block never drops its true pairs wholesale. Beyond
# `cap` records with one domain and one name on a side, that is a placeholder, not a company: those
# records are left to name matching, like any other.
_DOMAIN_PAIRS_SQL = """
WITH o AS (
  SELECT row, domain, name_core, true AS first FROM ours WHERE domain IS NOT NULL
  UNION ALL
  SELECT row, unnest(more_domains), name_core, false FROM ours WHERE more_domains IS NOT NULL
), t AS (
  SELECT row, domain, name_core, true AS first FROM theirs WHERE domain IS NOT NULL
  UNION ALL
  SELECT row, unnest(more_domains), name_core, false FROM theirs WHERE more_domains IS NOT NULL
), sizes AS (
  SELECT domain, greatest(o_n, t_n) AS n FROM
    (SELECT domain, count(*) AS o_n FROM o GROUP BY domain) JOIN
    (SELECT domain, count(*) AS t_n FROM t GROUP BY domain) USING (domain)
), small AS (SELECT domain FROM sizes WHERE n <= {cap}
), large AS (SELECT domain FROM sizes WHERE n > {cap}
), o_named AS (
  SELECT * FROM (SELECT o.*, count(*) OVER (PARTITION BY domain, name_core) AS n
                 FROM o JOIN large USING (domain))
  WHERE name_core IS NOT NULL AND n <= {cap}
), t_named AS (
  SELECT * FROM (SELECT t.*, count(*) OVER (PARTITION BY domain, name_core) AS n
                 FROM t JOIN large USING (domain))
  WHERE name_core IS NOT NULL AND n <= {cap}
), joined AS (
  SELECT o.row AS our_row, t.row AS their_row, domain, o.first AND t.first AS firsts, 'domain' AS domain_key
  FROM o JOIN small USING (domain) JOIN t USING (domain)
  UNION ALL
  SELECT o.row, t.row, domain, o.first AND t.first, 'domain_and_name'
  FROM o_named AS o JOIN t_named AS t USING (domain, name_core)
)
-- A pair that shares several domains names the one that is both records' first, if there is one.
SELECT our_row, their_row, arg_max(domain, firsts) AS shared_domain, min(domain_key) AS domain_key
FROM joined GROUP BY our_row, their_row
"""

_OVERRIDE_ROWS_SQL = """
SELECT DISTINCT o.row AS our_row, t.row AS their_row
FROM overrides AS x
JOIN ours AS o ON o.id = CAST(x.our_id AS VARCHAR)
JOIN theirs AS t ON t.id = CAST(x.their_id AS VARCHAR)
"""

_HIERARCHY_SQL = """
SELECT o.row AS our_row, t.row AS their_row, 'ours_is_subsidiary' AS relation
FROM links AS l JOIN ours AS o ON o.domain = l.child JOIN theirs AS t ON t.domain = l.parent
UNION
SELECT o.row, t.row, 'ours_is_parent'
FROM links AS l JOIN ours AS o ON o.domain = l.parent JOIN theirs AS t ON t.domain = l.child
"""

# A record with no country whose passing candidates are in two countries or more is left to a person:
# which of them it is, the name cannot say (the partner's "Hertz" with no country against our "Hertz" in
# the Netherlands on hertz.nl and our "Hertz" in Germany), whatever the domains' labels add (a namesake
# on hertz.nl looks just like the company's own Dutch site). A shared domain still matches at stage 1.
_COUNTRYLESS_SQL = """
SELECT * FROM scored
WHERE their_row NOT IN (
        SELECT their_row FROM scored WHERE their_country IS NULL AND our_country IS NOT NULL
        GROUP BY their_row HAVING count(DISTINCT our_country) >= 2)
  AND our_row NOT IN (
        SELECT our_row FROM scored WHERE our_country IS NULL AND their_country IS NOT NULL
        GROUP BY our_row HAVING count(DISTINCT their_country) >= 2)
"""

# Mutual best: a pair stays if it is the single best-scoring pair of both its records.
_RESOLVE_SQL = """
WITH best AS (
  SELECT *, max(score) OVER (PARTITION BY our_row) AS our_best,
         max(score) OVER (PARTITION BY their_row) AS their_best
  FROM scored
), tops AS (
  SELECT * FROM best WHERE score = our_best AND score = their_best
), counted AS (
  SELECT *, count(*) OVER (PARTITION BY our_row) AS our_ties,
         count(*) OVER (PARTITION BY their_row) AS their_ties
  FROM tops
)
SELECT * EXCLUDE (our_best, their_best, our_ties, their_ties)
FROM counted WHERE our_ties = 1 AND their_ties = 1
"""

_OUTPUT_SQL = """
SELECT our_id, their_id, method, score, relation,
       name_similarity, domain_agreement, country_agreement,
       our_name_key, their_name_key, our_domain, their_domain, our_country, their_country,
       CASE method
         WHEN 'manual' THEN 'confirmed by a user'
         WHEN 'domain' THEN CASE
           WHEN domain_key = 'domain_and_name' THEN printf(
             'same company domain %s and same name "%s" (the domain is on more than %d records of one side, '
             || 'so the name decides)', shared_domain, our_name_key, {cap})
           WHEN domain_agreement = 'alias'
             THEN printf('same company: %s and %s are aliases', our_domain, their_domain)
           WHEN shared_domain <> our_domain OR shared_domain <> their_domain
             THEN printf('same company domain %s (one of several on the record)', shared_domain)
           ELSE printf('same company domain %s', our_domain) END
         WHEN 'hierarchy' THEN CASE relation
           WHEN 'ours_is_subsidiary' THEN printf('%s is a subsidiary of %s', our_domain, their_domain)
           ELSE printf('%s is the parent of %s', our_domain, their_domain) END
         WHEN 'name_country' THEN printf('same name "%s" in %s%s', our_name_key, our_country,
           CASE WHEN country_from_domain <> '' THEN printf(' (%s)', country_from_domain) ELSE '' END)
         ELSE printf('names %d%% alike ("%s" ~ "%s")%s%s; country %s%s; domain %s',
                     CAST(round(name_similarity * 100) AS INTEGER), our_name_key, their_name_key,
                     CASE WHEN number_agreement = 'same'
                       THEN printf('; numbers %s agree', our_numbers) ELSE '' END,
                     CASE structure_agreement
                       WHEN 'same' THEN ''
                       WHEN 'added' THEN printf('; a structure word on one side only (%s ~ %s)',
                                                coalesce(our_structure, 'none'),
                                                coalesce(their_structure, 'none'))
                       ELSE printf('; structure words differ (%s ~ %s%s)', coalesce(our_structure, 'none'),
                                   coalesce(their_structure, 'none'),
                                   CASE WHEN our_structure IS NULL OR their_structure IS NULL
                                     THEN ', and a site names a group or holding' ELSE '' END) END,
                     country_agreement,
                     CASE WHEN country_from_domain <> ''
                       THEN printf(' (%s)', country_from_domain) ELSE '' END,
                     domain_agreement)
              || printf('; weights ({source}): domain %+.2f, country %+.2f, structure %+.2f',
                        domain_weight, country_weight, structure_weight) END
       || CASE WHEN method IN ('name_country', 'fuzzy_name') AND (
                 replace(our_name_key, ' ', '') IN (SELECT name_core FROM crowded WHERE side = 'ours')
                 OR replace(their_name_key, ' ', '') IN (SELECT name_core FROM crowded WHERE side = 'theirs'))
            THEN printf('; candidates by name and country (the name is on more than %d records of one side)',
                        {name_cap})
            ELSE '' END AS explanation{populations}
FROM pairs
ORDER BY our_id, their_id, method
"""


class _Stages:
    """Wall-clock and CPU seconds (the process's, every thread) per stage, for the benchmark and for logs:
    on a busy machine a stage's wall time beyond its CPU time is time spent waiting for a core."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.cpu_seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started, cpu = time.perf_counter(), time.process_time()
        yield
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started
        self.cpu_seconds[name] = self.cpu_seconds.get(name, 0.0) + time.process_time() - cpu


def _override_rows(overrides: pa.Table | None, ours: pa.Table, theirs: pa.Table) -> pa.Table:
    if overrides is None or overrides.num_rows == 0:
        return _PAIR_SCHEMA.empty_table()
    return query(_OVERRIDE_ROWS_SQL, overrides=overrides, ours=ours, theirs=theirs)


def _without(pairs: pa.Table, excluded: pa.Table) -> pa.Table:
    if excluded.num_rows == 0 or pairs.num_rows == 0:
        return pairs
    sql = "SELECT * FROM pairs ANTI JOIN excluded USING (our_row, their_row)"
    return query(sql, pairs=pairs, excluded=excluded)


# What name candidate generation reads of a record (candidates.py): filtering only these, not every
# column of the keyed table, saves copying a million rows' domains, keys and lists.
_POOL_COLUMNS = ["row", "id", "name_core", "country"]


def _rows_outside(accounts: pa.Table, *row_sets: pa.ChunkedArray) -> pa.Table:
    """The `_POOL_COLUMNS` of the records in none of `row_sets`."""
    # `row` is 0..n-1 in order (keyed_accounts), so a mask by position replaces a hash lookup.
    keep = np.ones(accounts.num_rows, dtype=bool)
    for rows in row_sets:
        keep[rows.to_numpy()] = False
    return accounts.select(_POOL_COLUMNS).filter(pa.array(keep))


def _parent_links(links: pa.Table | None) -> pa.Table:
    if links is None or links.num_rows == 0:
        return pa.table({"child": pa.array([], pa.string()), "parent": pa.array([], pa.string())})
    return pa.table({end: registrable_domains(links.column(end)) for end in ("child", "parent")})


def _labelled(pairs: pa.Table, method: str) -> pa.Table:
    """Pairs found by a key or a person, which score 1: the domain, hierarchy and manual ones."""
    n = pairs.num_rows
    same = pa.repeat(pa.scalar("same"), n)
    return pa.table(
        {
            "our_row": pc.cast(pairs.column("our_row"), pa.int64()),
            "their_row": pc.cast(pairs.column("their_row"), pa.int64()),
            "method": pa.repeat(pa.scalar(method), n),
            "score": pa.repeat(pa.scalar(1.0), n),
            "relation": pairs.column("relation") if "relation" in pairs.column_names else same,
            **_domain_keys(pairs),
        }
    )


def _domain_keys(pairs: pa.Table) -> dict[str, pa.Array | pa.ChunkedArray]:
    """The domain a domain pair shares and the key that decided it (null for the other methods)."""
    nulls = pa.nulls(pairs.num_rows, pa.string())
    return {c: pairs.column(c) if c in pairs.column_names else nulls for c in ("shared_domain", "domain_key")}


def _rows(pairs: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    return tuple(pairs.column(c).to_numpy(zero_copy_only=False) for c in ("our_row", "their_row"))


def _name_pairs(
    candidates: pa.Table,
    ours: pa.Table,
    theirs: pa.Table,
    names: NameComparer,
    bound: EvidenceBound,
    settings: MatchSettings,
    weights: Weights,
) -> pa.Table:
    """Scored, thresholded and resolved name candidates, labelled `name_country` or `fuzzy_name`."""
    # The evidence first: the most it can add says how alike each pair's names must be to pass, so the
    # names of pairs that cannot pass are compared as little as possible, and only the pairs that come
    # close get their full features. In slices, so that the many per-pair arrays stay small enough for
    # the allocator to reuse rather than ask the kernel for fresh pages each time.
    all_ours, all_theirs = _rows(candidates)
    kept = [(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))]
    for start in range(0, len(all_ours), _SCORING_SLICE):
        our_rows = all_ours[start : start + _SCORING_SLICE]
        their_rows = all_theirs[start : start + _SCORING_SLICE]
        most = bound.most(our_rows, their_rows, weights)
        similarity = names.similarity(our_rows, their_rows, floor=settings.threshold - most)
        close = np.flatnonzero(similarity + most >= settings.threshold - 1e-9)
        kept.append((our_rows[close], their_rows[close], similarity[close]))
    close_ours, close_theirs, close_similarity = (np.concatenate(part) for part in zip(*kept, strict=True))
    close_pairs = pa.table({"our_row": close_ours, "their_row": close_theirs})
    features = pair_features(close_pairs, ours, theirs, close_similarity)
    scored = features.append_column("score", match_score(features, weights))
    scored = scored.filter(pc.greater_equal(scored.column("score"), settings.threshold))
    scored = query(_COUNTRYLESS_SQL, scored=scored)
    resolved = query(_RESOLVE_SQL, scored=scored)
    exact = pc.and_(
        pc.and_(
            pc.equal(resolved.column("our_name_key"), resolved.column("their_name_key")),
            pc.equal(resolved.column("country_agreement"), "same"),
        ),
        pc.equal(resolved.column("structure_agreement"), "same"),
    )
    method = pc.if_else(exact, "name_country", "fuzzy_name")
    return pa.table(
        {
            "our_row": resolved.column("our_row"),
            "their_row": resolved.column("their_row"),
            "method": method,
            "score": resolved.column("score"),
            "relation": pa.repeat(pa.scalar("same"), resolved.num_rows),
            **_domain_keys(resolved),
        }
    )


def _estimated_weights(
    candidates: pa.Table, domain_pairs: pa.Table, ours: pa.Table, theirs: pa.Table, names: NameComparer
) -> Weights:
    """EM weights (weights.estimate) from a random sample of the pairs the stages look at: the name
    candidates and the domain pairs. Pairs whose names' numbers differ are left out: that rule decides
    them, whatever the weights."""
    pairs = pa.concat_tables(
        [candidates.select(["our_row", "their_row"]), domain_pairs.select(["our_row", "their_row"])]
    )
    if pairs.num_rows > _EM_SAMPLE:
        chosen = np.random.default_rng(0).choice(pairs.num_rows, _EM_SAMPLE, replace=False)
        pairs = pairs.take(np.sort(chosen))
    pairs = pa.table({c: pc.cast(pairs.column(c), pa.int64()) for c in ("our_row", "their_row")})
    features = pair_features(pairs, ours, theirs, names.similarity(*_rows(pairs)))
    features = features.filter(pc.not_equal(features.column("number_agreement"), "different"))
    similarity = features.column("name_similarity").to_numpy(zero_copy_only=False)
    agreements = {
        c: features.column(f"{c}_agreement").to_numpy(zero_copy_only=False)
        for c in ("domain", "country", "structure")
    }
    return estimate(np.asarray(similarity, dtype=np.float64), agreements)


def match_accounts(
    ours: pa.Table,
    theirs: pa.Table,
    *,
    overrides: Overrides | None = None,
    settings: MatchSettings | None = None,
) -> MatchResult:
    """Match our accounts with a partner's: one output row per matched pair, with how and why.

    Each table needs an `id` column and at least one of `name`, `domain`, `website`, `email`; `country`
    and `population` are used when present. Raises `MissingColumns` otherwise. See docs/mapping.md.
    """
    overrides = overrides or Overrides()
    settings = settings or MatchSettings()
    stages = _Stages()
    with stages.stage("normalise"):
        our_keys, their_keys = on_both_sides(
            lambda side: keyed_accounts(side[0], side=side[1], domain_aliases=overrides.domain_aliases),
            (ours, "ours"),
            (theirs, "theirs"),
        )
        confirmed = _override_rows(overrides.confirmed, our_keys, their_keys)
        rejected = _override_rows(overrides.rejected, our_keys, their_keys)
        links = _parent_links(overrides.parent_links)
    with stages.stage("domain"):
        cap = settings.max_records_per_key
        same_domain = query(_DOMAIN_PAIRS_SQL.format(cap=cap), ours=our_keys, theirs=their_keys)
        domain_pairs = _without(same_domain, rejected)
        hierarchy = query(_HIERARCHY_SQL, links=links, ours=our_keys, theirs=their_keys)
    with stages.stage("candidates"):
        # The name comparer and the evidence need only the keyed tables: built beside the candidates.
        comparer = in_background(NameComparer, our_keys, their_keys)
        bound = in_background(EvidenceBound, our_keys, their_keys)
        # Records settled by a domain or by a person are not offered to name matching.
        our_pool, their_pool = (
            _rows_outside(keys, domain_pairs.column(row), confirmed.column(row))
            for keys, row in ((our_keys, "our_row"), (their_keys, "their_row"))
        )
        candidates = name_candidates(our_pool, their_pool, window=settings.window)
        crowded = crowded_names(our_pool, their_pool)
        candidates = _without(_without(candidates, rejected), hierarchy.select(["our_row", "their_row"]))
    with stages.stage("score"):
        names = comparer.result()
        weights = (
            _estimated_weights(candidates, domain_pairs, our_keys, their_keys, names)
            if settings.weights == "em"
            else FIXED
        )
        name_pairs = _name_pairs(candidates, our_keys, their_keys, names, bound.result(), settings, weights)
    with stages.stage("explain"):
        hierarchy_pairs = _labelled(_without(hierarchy, rejected), "hierarchy")
        engine_pairs = pa.concat_tables([_labelled(domain_pairs, "domain"), name_pairs, hierarchy_pairs])
        pairs = pa.concat_tables([_labelled(confirmed, "manual"), _without(engine_pairs, confirmed)])
        features = pair_features(pairs, our_keys, their_keys, names.similarity(*_rows(pairs)))
        for comparison, adjustment in evidence_adjustments(features, weights).items():
            features = features.append_column(f"{comparison}_weight", pa.array(adjustment))
        populations = "".join(f", {c}" for c in features.column_names if c.endswith("_population"))
        sql = _OUTPUT_SQL.format(
            populations=populations, cap=cap, name_cap=MAX_RECORDS_PER_NAME, source=weights.source
        )
        output = query(sql, pairs=features, crowded=crowded)
    return MatchResult(
        pairs=output,
        unkeyed_ours=unkeyed(our_keys),
        unkeyed_theirs=unkeyed(their_keys),
        candidate_pairs=candidates.num_rows,
        stage_seconds=stages.seconds,
        stage_cpu_seconds=stages.cpu_seconds,
        weights=weights,
    )
