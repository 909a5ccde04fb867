"""Fellegi-Sunter weights estimated by EM: recovered from pairs and lists made with known m/u, and used by
the matcher (scores, bound and explanation)."""

import random
import string

import numpy as np
import pytest

from ecoops.engines.matching import MatchSettings, match_accounts
from ecoops.engines.matching.weights import FIXED, fellegi_sunter, name_bands
from tests.engines.matching.factories import accounts


def test_em_recovers_the_m_and_u_the_pairs_were_drawn_with():
    rng = np.random.default_rng(3)
    share = 0.15
    m = [np.array([0.6, 0.3, 0.1]), np.array([0.85, 0.1, 0.05]), np.array([0.7, 0.3])]
    u = [np.array([0.02, 0.18, 0.8]), np.array([0.3, 0.1, 0.6]), np.array([0.4, 0.6])]
    n = 200_000
    matches = rng.random(n) < share
    levels = np.stack(
        [
            np.where(matches, rng.choice(len(mk), n, p=mk), rng.choice(len(uk), n, p=uk))
            for mk, uk in zip(m, u, strict=True)
        ],
        axis=1,
    )
    # A start far from the truth: every level equally likely among non-matches, tilted among matches.
    u_start = [np.full(len(uk), 1 / len(uk)) for uk in u]
    m_start = [np.linspace(2, 1, len(mk)) / np.linspace(2, 1, len(mk)).sum() for mk in m]
    found = fellegi_sunter(levels, m_start, u_start, share_start=0.5)
    assert found.share == pytest.approx(share, abs=0.01)
    for estimated, true in zip(found.m + found.u, m + u, strict=True):
        np.testing.assert_allclose(estimated, true, atol=0.02)


def test_a_level_no_pair_shows_keeps_its_starting_value():
    levels = np.array([[0, 0], [1, 1], [0, 0], [1, 1]] * 50)
    start_m = [np.array([0.5, 0.3, 0.2]), np.array([0.5, 0.5])]
    start_u = [np.array([0.2, 0.5, 0.3]), np.array([0.5, 0.5])]
    found = fellegi_sunter(levels, start_m, start_u, share_start=0.5, prior_pairs=100)
    # Level 2 of the first comparison is never seen: only the prior's weight keeps it, shrinking with the
    # pairs' count (100 prior pairs against each class's expected count).
    assert 0 < found.m[0][2] < 0.2
    assert 0 < found.u[0][2] < 0.3


def test_name_bands():
    bands = name_bands(np.array([1.0, 0.995, 0.96, 0.94, 0.93, 0.87, 0.86, 0.85, 0.75, 0.3, np.nan]))
    assert bands.tolist() == [0, 0, 1, 1, 2, 3, 3, 4, 5, 6, 6]


def _word(rng: random.Random) -> str:
    return "".join(rng.choice("bdfgklmnprstvz") + rng.choice("aeiou") for _ in range(rng.randint(3, 4)))


def test_em_on_two_lists_recovers_the_noise_they_were_made_with():
    """Two lists of made-up companies, the partner's copy of each shared one losing its website, its
    country or gaining a "Group" at known rates: the m estimated from the lists is close to the rates
    counted on the true pairs here, and the weights point the right way."""
    rng = random.Random(5)
    countries = ["DE", "FR", "US", "GB", "NL"]
    names = sorted({_word(rng).capitalize() for _ in range(3000)})[:2400]
    ours, theirs, truth = [], [], []
    for i, name in enumerate(names[:1600]):
        country = rng.choice(countries)
        ours.append({"id": f"o{i}", "name": name, "website": f"www.{name.lower()}.com", "country": country})
        if i < 1000:  # shared with the partner, with CRM noise
            noisy = {
                "id": f"t{i}",
                "name": name + (" Group" if rng.random() < 0.1 else ""),
                "website": f"{name.lower()}.com" if rng.random() < 0.5 else None,
                "country": country if rng.random() < 0.8 else None,
            }
            if rng.random() < 0.3:  # one letter changed in the middle
                at = len(name) // 2
                noisy["name"] = (
                    noisy["name"][:at] + rng.choice(string.ascii_lowercase) + noisy["name"][at + 1 :]
                )
            theirs.append(noisy)
            truth.append((ours[-1], noisy))
    for j, name in enumerate(names[1600:]):  # the partner's own companies
        theirs.append(
            {"id": f"x{j}", "name": name, "website": f"{name.lower()}.de", "country": rng.choice(countries)}
        )
    result = match_accounts(accounts(*ours), accounts(*theirs), settings=MatchSettings(weights="em"))
    weights = result.weights
    assert weights.source == "em"
    # The independent count: the levels of the true pairs, as the lists were made.
    rate = {
        ("domain", "same"): sum(t["website"] is not None for _, t in truth) / len(truth),
        ("country", "same"): sum(t["country"] is not None for _, t in truth) / len(truth),
        # No site names a group: a word on one side only is the level "added".
        ("structure", "added"): sum(t["name"].endswith(" Group") for _, t in truth) / len(truth),
    }
    for (comparison, level), expected in rate.items():
        assert weights.m[comparison][level] == pytest.approx(expected, abs=0.06), (comparison, level)
    # Among the pairs that are not one company, a shared domain is rare and another country common.
    assert weights.u["domain"]["same"] < 0.05
    assert weights.u["country"]["different"] > 0.5
    adjustments = weights.adjustments
    assert adjustments["domain"]["same"] > 0 > adjustments["domain"]["different"]
    assert adjustments["country"]["different"] < adjustments["country"]["missing"] <= 0
    # Here only the companies' own copies gain a "Group" (no look-alike holdings): the lists say that is no
    # evidence against, where the fixed weights take 0.10.
    assert adjustments["structure"]["added"] >= 0 > FIXED.adjustments["structure"]["added"]
    # The explanation of a name pair names its weights and where they came from.
    fuzzy = [e for e in result.pairs.column("explanation").to_pylist() if e.startswith("names ")]
    assert fuzzy and all("; weights (em): domain " in e for e in fuzzy)


def test_fixed_weights_are_the_default_and_named_in_the_explanation():
    result = match_accounts(
        accounts({"id": "1", "name": "Globex Industries", "country": "US"}),
        accounts({"id": "a", "name": "Globex Industires", "country": "US"}),
    )
    assert result.weights is FIXED
    [explanation] = result.pairs.column("explanation").to_pylist()
    assert explanation.endswith("; weights (fixed): domain +0.00, country +0.00, structure +0.00")


def test_weights_other_than_fixed_or_em_are_refused():
    with pytest.raises(ValueError, match='weights must be "fixed" or "em"'):
        MatchSettings(weights="splink")
