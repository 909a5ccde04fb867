"""The evidence weights of the score: the fixed ones, or Fellegi-Sunter m/u estimated by EM from the two
lists being matched (as Splink does), turned into the same adjustments of the name similarity."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# The score is the name similarity (0-1) moved by each comparison's adjustment for the pair's level; these
# are the fixed adjustments, set so that one typo in a mid-length name in the same country still passes the
# default threshold, while the same name in two countries, or siblings that differ by a word, do not.
FIXED_ADJUSTMENTS: dict[str, dict[str, float]] = {
    "domain": {
        "same": 0.10,  # one registrable domain
        "alias": 0.10,  # one domain once the workspace's aliases are applied
        "same_label": 0.05,  # one brand on two suffixes: acme.com and acme.de
        # One label inside the other with a word around it (acme.com, getacme.com, acme-us.com,
        # acmegroup.com) does not contradict the names, but it is no evidence either: labels are made
        # from names, so "kraasle" and "kraasleveb" differ as names do. One or two letters more
        # ("brimuis.com", "rimuis.us") is not how a company varies its own domain: that is two names a
        # typo apart, each registered by its own company, so it counts as "different".
        "label_contains": 0.0,
        "missing": 0.0,  # either side has none (or only a free-mail one)
        "different": -0.15,  # enough that one name in one country with two unrelated domains stays out
    },
    "country": {"same": 0.0, "legal_form": 0.0, "missing": -0.03, "different": -0.20},
    # Structure words ("group", "holding") are not part of the compared keys ("DuPont" and "DuPont Group"
    # are one name), and one side's word alone is weak evidence: a CRM adds "Group" to a company's own
    # record as often as a list holds its holding ("added": the same name in one country passes, a name
    # with a typo as well needs a domain or more to back it).
    # What makes it strong is a record's own site saying it is the group or holding (acme-holding.com,
    # acmegroup.com), or the two sides naming different structures (a group and a holding): "differs",
    # as much as a different domain costs, so the pair passes only with a domain that backs it (the same
    # domain matches earlier; the same label on another suffix, +0.05, brings it back over the threshold).
    "structure": {"same": 0.0, "added": -0.10, "differs": -0.15},
}
# The level of each comparison that moves nothing: the adjustments are measured from it.
NEUTRAL = {"domain": "missing", "country": "same", "structure": "same"}

# The name similarity, in bands, is a comparison of its own for EM: the bands' weights say how many bits
# of evidence a unit of similarity is worth near the threshold, the rate at which the other comparisons'
# weights are turned into adjustments of the similarity.
NAME_BANDS = (0.995, 0.94, 0.90, 0.86, 0.80, 0.70)  # lower edges; below the last (or no name): one more
_BAND_MIN_PAIRS = 5  # a band with fewer sampled pairs says nothing about the rate
_MIDPOINTS = (np.array(NAME_BANDS[1:]) + np.array(NAME_BANDS[:-1])) / 2  # of bands 1 .. len - 1
# Where EM has no say: the starting m/u put this many bits on a unit of the fixed adjustments, and the
# starting values weigh as much as this many pairs in every estimate (a level the lists never show keeps
# its fixed weight).
_START_BITS_PER_UNIT = 50.0
_PRIOR_PAIRS = 100.0
# An estimated adjustment is kept within these bounds: a level seen almost only among matches (or
# non-matches) would otherwise be worth any name.
_BOUNDS = (-0.5, 0.2)


@dataclass(frozen=True)
class Weights:
    """The adjustment of each comparison's levels, and where it came from: `fixed`, or `em` with the
    estimated match share (`share`) and m/u of every level (`m`, `u`: comparison → level → probability),
    and the bits per unit of name similarity (`bits_per_unit`)."""

    adjustments: dict[str, dict[str, float]]
    source: str = "fixed"
    share: float | None = None
    m: dict[str, dict[str, float]] = field(default_factory=dict)
    u: dict[str, dict[str, float]] = field(default_factory=dict)
    bits_per_unit: float | None = None

    def adjustment(self, comparison: str, level: str) -> float:
        return self.adjustments[comparison][level]

    def most(self, comparison: str, *levels: str) -> float:
        """The largest adjustment among `levels`."""
        return max(self.adjustments[comparison][level] for level in levels)


FIXED = Weights(FIXED_ADJUSTMENTS)


@dataclass(frozen=True)
class Estimate:
    """What `fellegi_sunter` found: the share of matches among the pairs and, per comparison, m (the
    probability of each level among matches) and u (among non-matches)."""

    share: float
    m: list[np.ndarray]
    u: list[np.ndarray]
    iterations: int


def fellegi_sunter(
    levels: np.ndarray,
    m_start: list[np.ndarray],
    u_start: list[np.ndarray],
    share_start: float,
    *,
    prior_pairs: float = _PRIOR_PAIRS,
    max_iterations: int = 1000,  # cheap: EM runs on the distinct patterns of levels, a few hundred
    tolerance: float = 1e-6,
) -> Estimate:
    """EM for the two-class Fellegi-Sunter model: `levels` is pairs x comparisons of level codes (column k
    in 0..len(m_start[k])-1), the comparisons independent within each class. The starting m/u are also the
    prior: each estimate is the expected count of a level plus `prior_pairs` times its starting value,
    over the expected count of pairs plus `prior_pairs` (a Dirichlet prior), so a level no pair shows keeps
    its starting value."""
    n, k = levels.shape
    # Pairs with the same levels on every comparison are one row with a count: EM works on the patterns.
    sizes = np.array([len(m) for m in m_start])
    codes = np.ravel_multi_index(levels.T, sizes) if n else np.zeros(0, np.int64)
    patterns, counts = np.unique(codes, return_counts=True)
    unravelled = np.unravel_index(patterns, sizes)
    counts = counts.astype(np.float64)
    m = [np.asarray(p, np.float64).copy() for p in m_start]
    u = [np.asarray(p, np.float64).copy() for p in u_start]
    share = share_start
    iteration = 0
    for iteration in range(1, max_iterations + 1):  # noqa: B007 - the count is reported
        log_m = np.log(share) + sum(np.log(m[c][unravelled[c]]) for c in range(k))
        log_u = np.log(1 - share) + sum(np.log(u[c][unravelled[c]]) for c in range(k))
        posterior = 1.0 / (1.0 + np.exp(np.clip(log_u - log_m, -700, 700)))
        matched = counts * posterior
        unmatched = counts - matched
        new_m = [
            (np.bincount(unravelled[c], weights=matched, minlength=sizes[c]) + prior_pairs * m_start[c])
            / (matched.sum() + prior_pairs)
            for c in range(k)
        ]
        new_u = [
            (np.bincount(unravelled[c], weights=unmatched, minlength=sizes[c]) + prior_pairs * u_start[c])
            / (unmatched.sum() + prior_pairs)
            for c in range(k)
        ]
        new_share = float(np.clip(matched.sum() / max(counts.sum(), 1.0), 1e-6, 1 - 1e-6))
        change = max(
            abs(new_share - share),
            *(float(np.abs(a - b).max()) for a, b in zip(new_m + new_u, m + u, strict=True)),
        )
        m, u, share = new_m, new_u, new_share
        if change < tolerance:
            break
    return Estimate(share=share, m=m, u=u, iterations=iteration)


def name_bands(similarity: np.ndarray) -> np.ndarray:
    """The band of each name similarity: 0 for `NAME_BANDS[0]` and more, ..., len(NAME_BANDS) below the
    last edge or with no name."""
    bands: np.ndarray = np.searchsorted(-np.asarray(NAME_BANDS), -np.nan_to_num(similarity, nan=-1.0))
    return bands


def _bits_per_unit(bits: np.ndarray, counts: np.ndarray) -> float | None:
    """How many bits a unit of name similarity is worth: the slope of the name bands' weights against
    their midpoints, fitted over the bands between exact and the lowest (those with a midpoint), each
    weighing as many pairs as it holds. None when fewer than two bands hold enough pairs, or the slope is
    not positive (the lists too small or too alike to tell matches from non-matches)."""
    inner = counts[1 : len(NAME_BANDS)] * (counts[1 : len(NAME_BANDS)] >= _BAND_MIN_PAIRS)
    if np.count_nonzero(inner) < 2:
        return None
    x, y = _MIDPOINTS, bits[1 : len(NAME_BANDS)]
    x_mean, y_mean = np.average(x, weights=inner), np.average(y, weights=inner)
    slope = float(np.sum(inner * (x - x_mean) * (y - y_mean)) / np.sum(inner * (x - x_mean) ** 2))
    return slope if slope > 0 else None


def _start(frequencies: np.ndarray, adjustments: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Starting m/u of one comparison: u as the levels are among all pairs (nearly all are non-matches),
    m tilted from it by the fixed adjustments."""
    u = (frequencies + 1.0) / (frequencies.sum() + len(frequencies))
    m = u * np.exp2(_START_BITS_PER_UNIT * adjustments)
    return m / m.sum(), u


def estimate(similarity: np.ndarray, agreements: dict[str, np.ndarray]) -> Weights:
    """Weights estimated from sampled pairs of the two lists: their name similarities and, per comparison
    of `FIXED_ADJUSTMENTS`, their levels (strings). Each level's weight is log2(m / u); its adjustment is
    the difference from the neutral level's, in units of name similarity at the rate the name bands'
    weights show around the threshold. Falls back to the fixed weights when that rate is not positive
    (the lists too small or too alike to tell matches from non-matches)."""
    comparisons = list(FIXED_ADJUSTMENTS)
    level_names = [list(FIXED_ADJUSTMENTS[c]) for c in comparisons]
    named = list(zip(comparisons, level_names, strict=True))
    columns = [name_bands(similarity)]
    for comparison, names in named:
        lookup = {name: i for i, name in enumerate(names)}
        columns.append(np.array([lookup[a] for a in agreements[comparison]], dtype=np.int64))
    levels = np.stack(columns, axis=1) if len(similarity) else np.zeros((0, len(columns)), np.int64)
    # The name bands start from their midpoints' distance to the default threshold, as if they were
    # adjustments.
    band_start = np.array([1.0 - 0.86, *(_MIDPOINTS - 0.86), 0.5 - 0.86])
    starts = [
        _start(np.bincount(levels[:, 0], minlength=len(NAME_BANDS) + 1).astype(float), band_start),
        *(
            _start(
                np.bincount(levels[:, i + 1], minlength=len(names)).astype(float),
                np.array([FIXED_ADJUSTMENTS[c][name] for name in names]),
            )
            for i, (c, names) in enumerate(named)
        ),
    ]
    found = fellegi_sunter(levels, [m for m, _ in starts], [u for _, u in starts], share_start=0.2)
    bits = [np.log2(m / u) for m, u in zip(found.m, found.u, strict=True)]
    rate = _bits_per_unit(bits[0], np.bincount(levels[:, 0], minlength=len(NAME_BANDS) + 1))
    if rate is None:
        return FIXED
    adjustments = {}
    for i, (comparison, names) in enumerate(named):
        neutral = bits[i + 1][names.index(NEUTRAL[comparison])]
        adjustments[comparison] = {
            name: round(float(np.clip((bits[i + 1][j] - neutral) / rate, *_BOUNDS)), 3)
            for j, name in enumerate(names)
        }
    return Weights(
        adjustments,
        source="em",
        share=found.share,
        m={c: dict(zip(names, found.m[i + 1].tolist(), strict=True)) for i, (c, names) in enumerate(named)},
        u={c: dict(zip(names, found.u[i + 1].tolist(), strict=True)) for i, (c, names) in enumerate(named)},
        bits_per_unit=rate,
    )
