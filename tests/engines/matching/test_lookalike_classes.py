"""Issue 13's classes, each on hand-worked pairs: numbers must agree, structure words are weak evidence,
every domain of a multi-URL website field is a key, large domain blocks are decided by domain and name."""

import pyarrow as pa
import pytest

from ecoops.engines.matching import MatchSettings, match_accounts, name_keys
from ecoops.engines.matching.domains import every_registrable_domain
from tests.engines.matching.factories import accounts, pairs


@pytest.mark.parametrize(
    ("name", "numbers"),
    [
        ("Fund II", "ii"),
        ("Fund III", "iii"),
        ("Studio 54", "54"),
        ("Acme 3 Gruppe GmbH", "3"),
        ("Seven & I Holdings", None),  # a lone "I" is a word, not a numeral
        ("Acme", None),
        ("3M", "3"),
    ],
)
def test_numbers_of_a_name(name, numbers):
    assert name_keys(pa.array([name])).column("numbers")[0].as_py() == numbers


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        ("Chefs' Warehouse", "Chefs' Warehouse 6"),
        ("Pernod Ricard", "PERNOD RICARD 3"),
        ("Northwind Fund II", "Northwind Fund III"),
        ("Studio 54", "Studio 45"),
        ("Studio 54", "Studio"),
    ],
)
def test_names_whose_numbers_differ_never_match(ours, theirs):
    # Same country, no domain: without the rule each pair scores 0.9 or more.
    result = match_accounts(
        accounts({"id": "o1", "name": ours, "country": "US"}),
        accounts({"id": "t1", "name": theirs, "country": "US"}),
    )
    assert result.pairs.num_rows == 0


def test_numbers_that_agree_are_named_in_the_explanation():
    result = match_accounts(
        accounts({"id": "o1", "name": "Studio 54 Inc", "country": "US"}),
        accounts({"id": "t1", "name": "Studoi 54", "country": "US"}),
    )
    (row,) = result.pairs.to_pylist()
    assert "numbers 54 agree" in row["explanation"]


@pytest.mark.parametrize(
    ("name", "key", "structure"),
    [
        ("DuPont Group", "dupont", "group"),
        ("Vistra Corp Holding", "vistra", "holding"),  # the legal form before it goes too
        ("SEB Group AB (publ)", "seb", "group"),
        ("RESMED GRUPPE", "resmed", "group"),
        ("ResMed", "resmed", None),
        ("Grupo Bimbo", "grupo bimbo", None),  # only at the end
        ("Group", "group", None),  # nothing but the word: kept as the name
    ],
)
def test_structure_words_leave_the_key(name, key, structure):
    keyed = name_keys(pa.array([name])).to_pylist()[0]
    assert (keyed["name_key"], keyed["structure"]) == (key, structure)


def test_a_structure_word_on_one_side_needs_a_domain_to_back_it():
    ours = accounts(
        {"id": "o1", "name": "DuPont", "website": "dupont.com", "country": "US"},
        {"id": "o2", "name": "Vistra Corp", "country": "US"},
    )
    theirs = accounts(
        # The brand on another suffix backs the name: 1 - 0.15 + 0.05 = 0.90.
        {"id": "t1", "name": "DuPont Group", "website": "dupont.de", "country": "US"},
        # No domain to back it: 1 - 0.15 = 0.85, under the threshold.
        {"id": "t2", "name": "Vistra Corp Holding", "country": "US"},
    )
    result = match_accounts(ours, theirs)
    assert pairs(result.pairs) == {("o1", "t1", "fuzzy_name")}
    (row,) = result.pairs.to_pylist()
    assert row["score"] == pytest.approx(0.90)
    assert "structure words differ (none ~ group)" in row["explanation"]
    assert "domain same_label" in row["explanation"]


def test_a_subsidiary_on_its_own_site_is_not_the_parent():
    # "acme-holding.com" contains "acme", which would be no evidence either way; with the structure word
    # it is a holding's own site: a different domain.
    result = match_accounts(
        accounts({"id": "o1", "name": "Acme Robotics", "website": "acme-robotics.com", "country": "DE"}),
        accounts(
            {
                "id": "t1",
                "name": "Acme Robotics Holding",
                "website": "acme-robotics-holding.com",
                "country": "DE",
            }
        ),
        settings=MatchSettings(threshold=0.0),
    )
    row = next(iter(result.pairs.to_pylist()), None)
    assert row is None or row["domain_agreement"] == "different"


def test_the_same_structure_word_on_both_sides_is_the_same_name():
    result = match_accounts(
        accounts({"id": "o1", "name": "SEB Group", "country": "SE"}),
        accounts({"id": "t1", "name": "SEB GRUPPE AB", "country": "Sweden"}),
    )
    assert pairs(result.pairs) == {("o1", "t1", "name_country")}


def test_a_common_word_on_one_side_only_still_counts_against():
    # "consulting" is common here (in 6 names), and only one side has it: the names differ by a word.
    others = [{"id": f"x{i}", "name": f"Firm{'abcdef'[i]}zz Consulting"} for i in range(6)]
    result = match_accounts(
        accounts({"id": "o1", "name": "Nexbri", "country": "US"}, *others),
        accounts({"id": "t1", "name": "Nexbri Consulting", "country": "US"}),
    )
    assert ("o1", "t1") not in {(p[0], p[1]) for p in pairs(result.pairs)}


@pytest.mark.parametrize(
    ("website", "domains"),
    [
        ("www.aboutschwab.com www.schwab.com", ["aboutschwab.com", "schwab.com"]),
        ("www.mitsui.com /jp /en /index.html", ["mitsui.com"]),
        ("merck.com (US & Canada) msd.com (international)", ["merck.com", "msd.com"]),
        ("a.com; b.com, a.com", ["a.com", "b.com"]),
        ("Official website", []),
        (None, []),
    ],
)
def test_every_domain_of_a_website_field(website, domains):
    assert every_registrable_domain(pa.array([website], pa.string())).to_pylist() == [domains]


def test_a_second_url_of_a_website_field_is_a_key():
    result = match_accounts(
        accounts({"id": "o1", "name": "Charles Schwab", "website": "www.aboutschwab.com www.schwab.com"}),
        accounts({"id": "t1", "name": "Schwab", "website": "https://schwab.com/"}),
    )
    (row,) = result.pairs.to_pylist()
    assert row["method"] == "domain"
    assert row["explanation"] == "same company domain schwab.com (one of several on the record)"


def test_a_domain_on_too_many_records_is_decided_with_the_name():
    # 4 records of one side on one domain, cap 3: the domain alone decides nothing, domain and name do.
    ours = accounts(*({"id": f"o{i}", "name": f"Branch {'abcd'[i]}", "website": "hq.com"} for i in range(4)))
    theirs = accounts({"id": "t1", "name": "BRANCH C", "website": "hq.com"})
    result = match_accounts(ours, theirs, settings=MatchSettings(max_records_per_key=3))
    assert pairs(result.pairs) == {("o2", "t1", "domain")}
    assert "same name" in result.pairs.to_pylist()[0]["explanation"]
    assert "so the name decides" in result.pairs.to_pylist()[0]["explanation"]
