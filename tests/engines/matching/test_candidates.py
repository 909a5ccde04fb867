"""Blocking keys: the anagram key puts names with the same letters side by side, whatever their order."""

import pyarrow as pa

from ecoops.engines.matching.candidates import _anagram_keys, name_candidates


def _table(cores: list[str | None], countries: list[str | None]) -> pa.Table:
    return pa.table({"name_core": pa.array(cores, pa.string()), "country": pa.array(countries, pa.string())})


def test_same_letters_and_country_give_the_same_key():
    keys = _anagram_keys(
        _table(["yagodrapharma", "yagdorapharma", "yagodrapharma", "abc"], ["MX", "MX", "US", None])
    )
    first, swapped, elsewhere, short = keys.to_pylist()
    assert first == swapped == b"aaaadghmoprry" + b"\xff" * 11 + b"MX"
    assert elsewhere[:-2] == first[:-2] and elsewhere[-2:] == b"US"
    assert short == b"abc" + b"\xff" * 21 + b"  "  # padding sorts after every letter: "abc" beside "abcd"


def test_long_and_missing_names_keep_their_row():
    keys = _anagram_keys(_table(["z" * 40, None, "é"], ["DE", "FR", None]).slice(0))
    assert [len(k) for k in keys.to_pylist()] == [26, 26, 26]
    assert keys[0].as_py()[:24] == b"z" * 24
    assert keys[1].as_py() == b"\xff" * 24 + b"FR"
    assert keys[2].as_py()[:2] == bytes(sorted("é".encode()))


def test_a_sliced_table_is_keyed_from_its_own_rows():
    table = _table(["cba", "fed", "ihg"], ["US", "US", "US"]).slice(1)
    assert [k[:3] for k in _anagram_keys(table).to_pylist()] == [b"def", b"ghi"]


def test_candidates_are_bounded_by_the_window_and_the_three_orders():
    ours = pa.table({"row": pa.array([0], pa.int64()), "id": ["o"], "name_core": ["acme"], "country": ["US"]})
    names = [f"acme{chr(97 + i)}{chr(97 + j)}" for i in range(6) for j in range(6)]
    theirs = pa.table(
        {
            "row": pa.array(range(len(names)), pa.int64()),
            "id": [f"t{i}" for i in range(len(names))],
            "name_core": names,
            "country": ["US"] * len(names),
        }
    )
    found = name_candidates(ours, theirs, window=2)
    assert 0 < found.num_rows <= 2 * 2 * 3
    assert set(found.column("our_row").to_pylist()) == {0}
