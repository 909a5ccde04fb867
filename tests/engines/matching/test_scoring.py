"""Name similarity and pair evidence: common words, the three measures, the floor, domain labels."""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from rapidfuzz.distance import OSA, Indel, Levenshtein

from ecoops.engines.matching import normalise_name
from ecoops.engines.matching.accounts import keyed_accounts
from ecoops.engines.matching.scoring import (
    EvidenceBound,
    NameComparer,
    distinctive_keys,
    evidence_adjustment,
    pair_features,
)
from tests.engines.matching.factories import accounts


def _keyed(*names: str, side: str = "ours") -> pa.Table:
    return keyed_accounts(accounts(*({"id": str(i), "name": n} for i, n in enumerate(names))), side=side)


def test_distinctive_keys_drop_common_words_but_never_the_whole_name():
    keys = pa.array(["acme systems", "systems consulting", "acme systems consulting labs x", "systems", None])
    assert distinctive_keys(keys, ["systems", "consulting", "labs"]).to_pylist() == [
        "acme",
        "systems consulting",  # all common: the key stands
        "acme x",
        "systems",
        None,
    ]
    assert distinctive_keys(keys, []).to_pylist() == keys.to_pylist()
    # Whole words only: "labsco" is not "labs".
    assert distinctive_keys(pa.array(["labsco labs"]), ["labs"]).to_pylist() == ["labsco"]


def test_similarity_is_the_mean_of_indel_osa_and_the_distinctive_indel_worked_by_hand():
    # "consulting" is in 6 of the 7 names: common (the minimum count is 5).
    ours = _keyed("Nexbri Consulting", *(f"Filler{i} Consulting" for i in range(4)))
    theirs = _keyed("Onnexbri Consulting", "Zzz Consulting", side="theirs")
    similarity = NameComparer(ours, theirs).similarity(np.array([0]), np.array([0]))[0]
    a, b = "nexbri consulting", "onnexbri consulting"
    expected = (Indel.normalized_similarity(a, b) + OSA.normalized_similarity(a, b)) / 3 + (
        Indel.normalized_similarity("nexbri", "onnexbri") / 3
    )
    assert similarity == pytest.approx(expected, abs=1e-6)
    assert expected < Indel.normalized_similarity(a, b)  # the shared word no longer carries the pair
    # Without common words (a short list), the distinctive measure is the whole key's.
    few = NameComparer(_keyed("Nexbri Consulting"), _keyed("Onnexbri Consulting", side="theirs"))
    plain = few.similarity(np.array([0]), np.array([0]))[0]
    assert plain == pytest.approx(
        (2 * Indel.normalized_similarity(a, b) + OSA.normalized_similarity(a, b)) / 3, abs=1e-6
    )


def test_a_missing_name_is_nan():
    comparer = NameComparer(_keyed("Acme", "..."), _keyed("Acme", side="theirs"))
    similarity = comparer.similarity(np.array([0, 1]), np.array([0, 0]))
    assert similarity[0] == 1.0 and np.isnan(similarity[1])


letters = st.text(alphabet="abcdeo ", min_size=1, max_size=14)


@given(st.lists(st.tuples(letters, letters), min_size=1, max_size=20), st.floats(0.0, 1.1))
# Under the floor, with a swap not looked for: 0, not a part value.
@example([(" bcdaba", "aadca aa cb")], 0.5)
def test_the_floor_only_zeroes_pairs_that_could_not_reach_it(names, floor):
    ours = _keyed(*(f"x{a}" for a, _ in names))
    theirs = _keyed(*(f"x{b}" for _, b in names), side="theirs")
    comparer = NameComparer(ours, theirs)
    rows = np.arange(len(names))
    full = comparer.similarity(rows, rows)
    floored = comparer.similarity(rows, rows, floor=floor)
    reaching = full >= floor
    assert np.allclose(floored[reaching], full[reaching])
    assert np.all((floored[~reaching] == 0) | np.isclose(floored[~reaching], full[~reaching]))


@pytest.mark.parametrize(
    ("ours", "theirs", "agreement"),
    [
        ("acme.com", "acme.com", "same"),
        ("acme.com", "acme.de", "same_label"),
        ("acme.com", "getacme.com", "label_contains"),
        ("acme.com", "acmegroup.de", "label_contains"),
        ("acme.com", "acme-us.com", "label_contains"),  # a hyphenated part is a word, however short
        ("rimuis.us", "brimuis.com", "different"),  # one letter more: another company's name
        ("kaste.io", "rikaste.com", "different"),
        ("acme.com", "globex.com", "different"),
        ("acme.com", None, "missing"),
    ],
)
def test_domain_agreement(ours, theirs, agreement):
    keyed = [
        keyed_accounts(accounts({"id": "1", "name": "x", "website": site}), side=side)
        for site, side in ((ours, "ours"), (theirs, "theirs"))
    ]
    features = pair_features(pa.table({"our_row": [0], "their_row": [0]}), *keyed, np.array([1.0]))
    assert features.column("domain_agreement").to_pylist() == [agreement]


SITES = ["acme.com", "acme.de", "getacme.com", "acme-us.com", "bacme.com", "globex.com", "gmail.com", None]
COUNTRIES = ["US", "USA", "DE", None]
NAMES = ["x", "x GmbH", "x Inc", "x plc"]  # no legal form, and forms of a few countries each
RECORDS = st.tuples(st.sampled_from(SITES), st.sampled_from(COUNTRIES), st.sampled_from(NAMES))


@given(st.lists(RECORDS, min_size=1, max_size=8), st.lists(RECORDS, min_size=1, max_size=8))
def test_the_evidence_bound_is_never_below_the_evidence(our_rows, their_rows):
    keyed = [
        keyed_accounts(
            accounts(
                *({"id": str(i), "name": n, "website": w, "country": c} for i, (w, c, n) in enumerate(rows))
            ),
            side=side,
        )
        for rows, side in ((our_rows, "ours"), (their_rows, "theirs"))
    ]
    ours, theirs = np.meshgrid(np.arange(len(our_rows)), np.arange(len(their_rows)))
    candidates = pa.table({"our_row": ours.ravel(), "their_row": theirs.ravel()})
    features = pair_features(candidates, *keyed, np.ones(candidates.num_rows))
    exact = evidence_adjustment(features)
    rows = [features.column(c).to_numpy() for c in ("our_row", "their_row")]
    most = EvidenceBound(*keyed).most(*rows)
    assert np.all(most >= exact - 1e-12)
    # ...and equal to it wherever no label containment is in question, nor a legal form of a record with
    # no country (its forms may name the other's country, or rule it out).
    forms = [
        keyed[k].column("form_countries").take(features.column(f"{s}_row"))
        for k, s in enumerate(("our", "their"))
    ]
    clue = [
        pc.and_(pc.is_null(features.column(f"{side}_country")), pc.is_valid(form))
        for side, form in zip(("our", "their"), forms, strict=True)
    ]
    settled = (features.column("domain_agreement").to_numpy(zero_copy_only=False) != "different") & ~(
        pc.or_(*clue).to_numpy(zero_copy_only=False)
    )
    assert np.allclose(most[settled], exact[settled])


@pytest.mark.parametrize(
    ("ours", "theirs", "our_distinctive", "their_distinctive"),
    [
        # One edit from a common word of 6 letters or more: the common word mistyped, left out with it.
        ("Zurich Insurance", "Zurich Wnsurance", "zurich", "zurich"),  # a changed letter
        ("Elevance Health", "Elevance Halth", "elevance", "elevance"),  # "health": 6 letters, one dropped
        ("Daikin Industries", "Daikin Indsutries", "daikin", "daikin"),  # two neighbours swapped
        # "trust" has 5 letters: one edit from a short word is as often another word, so it stays.
        ("Franklin Trust", "Franklin Truqt", "franklin", "franklin truqt"),
        # Two edits from the common word: another word.
        ("Zurich Insurance", "Zurich Wnsuranse", "zurich", "zurich wnsuranse"),
    ],
)
def test_a_common_word_mistyped_is_left_out_of_the_distinctive_key(
    ours, theirs, our_distinctive, their_distinctive
):
    # Each of "insurance", "health", "industries", "trust" is in 5 fillers' names: common.
    fillers = [f"Filler{c} {w}" for w in ("Insurance", "Health", "Industries", "Trust") for c in "abcde"]
    similarity = NameComparer(_keyed(ours, *fillers), _keyed(theirs, side="theirs")).similarity(
        np.array([0]), np.array([0])
    )[0]
    a, b = (normalise_name(ours), normalise_name(theirs))

    def indel(x: str, y: str) -> float:  # a swap of neighbours is one Indel edit, not two
        swaps = Levenshtein.distance(x, y) - OSA.distance(x, y)
        return Indel.normalized_similarity(x, y) + swaps / (len(x) + len(y))

    expected = (indel(a, b) + OSA.normalized_similarity(a, b) + indel(our_distinctive, their_distinctive)) / 3
    assert similarity == pytest.approx(expected, abs=1e-6)
