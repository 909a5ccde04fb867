"""The conflict check's remembered keys: the same keys as computing them afresh, computed once per
value, the least recently used forgotten first, and right when many requests ask at once."""

from functools import partial

import pyarrow as pa

from ecoops.engines.matching.domains import registrable_domain
from ecoops.engines.matching.names import normalise_name
from ecoops.referrals import companies
from ecoops.referrals.companies import RememberedKeys, company_keys
from tests.at_once import at_once

NAMES = ["The Acme Company, Inc.", "ACME INC", "Globex GmbH", "Initech 2", "Initech 3", "", "   "]


def _counted(compute):
    calls: list[list[str]] = []

    def counting(values):
        calls.append(list(values))
        return compute(values)

    return counting, calls


def test_the_keys_are_those_of_the_normalisation_computed_once_per_value():
    compute, calls = _counted(lambda values: [v.upper() for v in values])
    keys = RememberedKeys(compute)
    assert keys(["b", "a", "b"]) == ["B", "A", "B"]
    assert keys(["a", "c"]) == ["A", "C"]
    assert calls == [["b", "a"], ["c"]]  # each value once, in first-seen order; "a" remembered
    assert keys([]) == [] and len(calls) == 2


def test_the_conflict_checks_keys_match_computing_them_afresh(monkeypatch):
    monkeypatch.setattr(companies, "_NAME_KEYS", RememberedKeys(companies._NAME_KEYS.compute))
    monkeypatch.setattr(companies, "_DOMAINS", RememberedKeys(companies._DOMAINS.compute))
    for _ in range(2):  # the second time from memory
        assert companies._NAME_KEYS(NAMES) == [normalise_name(n) for n in NAMES]
        for name, website in [("Acme", "https://www.acme.co.uk/about"), ("Globex", "mail@globex.de")]:
            keys = company_keys(name, website, "United Kingdom")
            assert (keys.name_key, keys.domain_key, keys.country) == (
                normalise_name(name),
                registrable_domain(website),
                "GB",
            )
    assert company_keys("Acme", "", "").domain_key == ""


def test_the_least_recently_used_are_forgotten_first():
    compute, calls = _counted(lambda values: [v * 2 for v in values])
    keys = RememberedKeys(compute, size=2)
    keys(["a", "b"])
    keys(["a"])  # "a" used last: "b" goes when "c" comes
    keys(["c"])
    calls.clear()
    assert keys(["a", "c", "b"]) == ["aa", "cc", "bb"]
    assert calls == [["b"]]
    assert len(keys._known) == 2


def test_many_requests_at_once_get_their_own_keys_while_values_are_forgotten():
    keys = RememberedKeys(lambda values: [f"key of {v}" for v in values], size=5)
    failures: list[str] = []

    def ask(n: int) -> None:
        for round_ in range(300):
            values = [f"v{(n * 7 + round_ + i) % 13}" for i in range(4)]
            if keys(values) != [f"key of {v}" for v in values]:
                failures.append(f"{n}/{round_}")

    at_once(*[partial(ask, n) for n in range(8)])
    assert failures == []
    assert len(keys._known) <= 5


def test_names_that_are_not_strings_of_letters_keep_their_null_key():
    keys = RememberedKeys(companies._NAME_KEYS.compute)
    assert keys(["", "!!!", "Acme"]) == [None, None, "acme"]
    assert pa.array(keys(["!!!"])).null_count == 1
