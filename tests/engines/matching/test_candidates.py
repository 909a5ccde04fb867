"""Blocking: one-edit twins by the deletion neighbourhood, wherever they sort, and sorted neighbours."""

import itertools
from collections import Counter

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz.distance import Indel

from ecoops.engines.matching.candidates import _one_edit_pairs, name_candidates


def _side(cores: list[str | None], prefix: str, country: str | None = "US") -> pa.Table:
    return pa.table(
        {
            "row": pa.array(range(len(cores)), pa.int64()),
            "id": [f"{prefix}{i}" for i in range(len(cores))],
            "name_core": pa.array(cores, pa.string()),
            "country": pa.array([country] * len(cores), pa.string()),
        }
    )


def _pairs(table: pa.Table) -> set[tuple[int, int]]:
    return set(zip(table.column("our_row").to_pylist(), table.column("their_row").to_pylist(), strict=True))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.text(alphabet="abc", min_size=5, max_size=8), min_size=1, max_size=12),
    st.lists(st.text(alphabet="abc", min_size=5, max_size=8), min_size=1, max_size=12),
)
def test_one_edit_pairs_are_exactly_the_names_one_letter_changed_moved_added_or_dropped_apart(ours, theirs):
    found = _one_edit_pairs(_side(ours, "o"), _side(theirs, "t"))
    # Independently: a shared one-shorter string (or equality) is Indel distance <= 2 with lengths at most
    # one apart (two equal-length strings that each lose a letter; or the longer that loses one).
    expected = {
        (i, j)
        for (i, a), (j, b) in itertools.product(enumerate(ours), enumerate(theirs))
        if Indel.distance(a, b) <= 2 and abs(len(a) - len(b)) <= 1
    }
    assert set(zip(*(side.tolist() for side in found), strict=True)) == expected


def test_twins_are_one_row_each_though_they_share_every_key():
    # Equal cores share all their keys (the whole core and each one-shorter string: 8 here): one row is
    # kept. (A swap shares two one-shorter strings, and `name_candidates` drops the second.)
    found = _one_edit_pairs(_side(["vapreal", "vapreal"], "o"), _side(["vapreal", "vaprael"], "t"))
    rows = Counter(zip(*(side.tolist() for side in found), strict=True))
    assert rows[(0, 0)] == rows[(1, 0)] == 1
    assert set(rows) == {(0, 0), (0, 1), (1, 0), (1, 1)}


def test_a_typo_in_the_middle_is_found_however_many_names_sort_between():
    # Hundreds of partner names sort between "vapreal" and "vaprueal" (all "vapr..." names), so a window
    # of neighbours cannot reach; the one-edit join does, for each kind of edit.
    fillers = [f"vapr{a}{b}{c}x" for a in "abcdefghij" for b in "klmnopqrs" for c in "tuvwxyz"]
    twins = {
        "vapreal": "vaprueal",
        "modtigen": "modigen",
        "esroco": "esrocoo",
        "atpafo": "atpayo",
        "quaol": "quoal",
    }
    theirs = _side(list(twins.values()) + fillers, "t")
    found = _pairs(name_candidates(_side(list(twins), "o"), theirs, window=3))
    assert {(i, i) for i in range(len(twins))} <= found
    # ... and the candidates stay bounded: the window, plus the few fillers one edit away.
    assert len(found) <= len(twins) * (2 * 3 + 3)


def test_short_names_get_no_one_letter_shorter_keys():
    # "ibmx" less a letter would meet every three-letter name; four-letter names only meet their equals.
    found = _one_edit_pairs(_side(["ibmx", "ibmx"], "o"), _side(["ibm", "ibmx", "ibmy"], "t"))
    assert set(zip(*(side.tolist() for side in found), strict=True)) == {(0, 1), (1, 1)}


def test_a_name_held_by_many_records_is_left_to_sorted_neighbours():
    ours, theirs = _side(["acme"] * 30, "o"), _side(["acme"] * 30, "t")
    assert len(_one_edit_pairs(ours, theirs)[0]) == 0  # 900 pairs would come out of the join
    found = name_candidates(ours, theirs, window=2)
    assert 0 < found.num_rows <= 30 * 2 * 2
    # Ours sort before theirs among equals: every record of ours still meets a twin.
    assert set(found.column("our_row").to_pylist()) == set(range(30))


def test_missing_names_are_never_candidates():
    found = name_candidates(_side([None, "globex"], "o"), _side(["globex", None], "t"), window=3)
    assert _pairs(found) == {(1, 0)}


def _countries(cores_and_countries: list[tuple[str, str | None]], prefix: str) -> pa.Table:
    table = _side([core for core, _ in cores_and_countries], prefix)
    return table.set_column(3, "country", pa.array([c for _, c in cores_and_countries], pa.string()))


def test_a_name_on_many_records_meets_its_one_edit_twins_in_its_own_country():
    # 30 "nordwind"s, one per country: more than the 25 a name's one-edit block may hold on a side. Name
    # and country decide instead: the German typo meets the German "nordwind" only, wherever it sorts.
    countries = [f"{a}{b}" for a in "ABCDEF" for b in "XYZVW"]  # 30 codes, "DX" among them
    ours = _countries([("nordwind", c) for c in countries] + [("nordwind", None)], "o")
    # Six partner names sort between "nordwnid" and the "nordwind"s, out of the window's reach.
    theirs = _countries([("nordwnid", "DX")] + [(f"nordwl{c}", "DX") for c in "abcdef"], "t")
    pairs = _one_edit_pairs(ours, theirs)
    assert set(zip(*(side.tolist() for side in pairs), strict=True)) == {(countries.index("DX"), 0)}
    assert (countries.index("DX"), 0) in _pairs(name_candidates(ours, theirs, window=3))


def test_a_name_on_many_records_of_one_country_is_left_to_sorted_neighbours():
    # 26 "nordwind"s in one country: no stronger key bounds them, so no one-edit pairs, and the exact twin
    # is still a first neighbour.
    ours = _countries([("nordwind", "DX")] * 26, "o")
    theirs = _countries([("nordwind", "DX"), ("nordwnid", "DX")], "t")
    assert len(_one_edit_pairs(ours, theirs)[0]) == 0
    assert {(0, 0)} <= _pairs(name_candidates(ours, theirs, window=3))
