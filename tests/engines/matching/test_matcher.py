"""The matcher on hand-worked cases: each stage, the look-alikes it must refuse, overrides, bad input."""

import pyarrow as pa
import pytest

from ecoops.engines.matching import MatchSettings, MissingColumns, Overrides, match_accounts
from tests.engines.matching.factories import accounts, pairs


def test_same_domain_in_any_form_matches():
    ours = accounts({"id": "o1", "name": "Acme Inc", "website": "https://www.acme.com/about"})
    theirs = accounts(
        {"id": "t1", "name": "Totally Different", "website": "sales@ACME.com"},
        {"id": "t2", "name": "Beta", "website": "gmail.com"},
    )
    result = match_accounts(ours, theirs)
    assert pairs(result.pairs) == {("o1", "t1", "domain")}
    row = result.pairs.to_pylist()[0]
    assert row["score"] == 1.0
    assert row["domain_agreement"] == "same" and row["our_domain"] == row["their_domain"] == "acme.com"
    assert row["explanation"] == "same company domain acme.com"


def test_same_name_and_country_match_without_a_domain():
    ours = accounts({"id": "o1", "name": "The Globex Corporation", "country": "USA"})
    theirs = accounts({"id": "t1", "name": "GLOBEX CORP.", "country": "United States"})
    row = match_accounts(ours, theirs).pairs.to_pylist()[0]
    assert (row["method"], row["score"], row["country_agreement"]) == ("name_country", 1.0, "same")
    assert row["explanation"] == 'same name "globex" in US'


def test_a_typo_matches_fuzzily_with_the_score_worked_out_by_hand():
    ours = accounts({"id": "o1", "name": "Globex Industries Ltd", "country": "GB"})
    theirs = accounts({"id": "t1", "name": "Globex Industires", "country": "United Kingdom"})
    row = match_accounts(ours, theirs).pairs.to_pylist()[0]
    # "globex industries" vs "globex industires": one swap of neighbours, counted as one Indel edit over
    # 34 letters (twice: the whole keys and, with no common words, the distinctive ones) and one OSA edit
    # over 17: (2 * (1 - 1/34) + (1 - 1/17)) / 3 = 1 - 4/102.
    assert row["method"] == "fuzzy_name"
    assert row["name_similarity"] == pytest.approx(1 - 4 / 102, abs=1e-4)
    assert row["score"] == pytest.approx(1 - 4 / 102, abs=1e-4)  # same country +0, no domain +0
    assert row["explanation"].startswith('names 96% alike ("globex industries" ~ "globex industires")')


def test_missing_country_and_a_domain_on_one_brand_move_the_score_by_their_amounts():
    ours = accounts({"id": "o1", "name": "Globex Industries", "website": "globex.com", "country": "GB"})
    # ".net" names no country (".co.uk" would: see test_lookalike_classes).
    theirs = accounts({"id": "t1", "name": "Globex Industires", "website": "globex.net"})
    row = match_accounts(ours, theirs).pairs.to_pylist()[0]
    assert (row["domain_agreement"], row["country_agreement"]) == ("same_label", "missing")
    assert row["score"] == pytest.approx(1 - 4 / 102 + 0.05 - 0.03, abs=1e-4)


def test_siblings_that_share_a_word_are_not_matched():
    ours = accounts(
        {"id": "o1", "name": "Zenvora Robotics Inc", "website": "zenvorarobotics.com", "country": "US"}
    )
    theirs = accounts(
        {"id": "t1", "name": "Zenvora Analytics Inc", "website": "zenvoraanalytics.com", "country": "US"},
        {"id": "t2", "name": "Zenvora Robotic Systems", "country": "US"},
        {"id": "t3", "name": "Zenvora", "country": "US"},
    )
    assert match_accounts(ours, theirs).pairs.num_rows == 0


def test_one_name_in_two_countries_is_two_companies_without_a_domain():
    ours = accounts({"id": "o1", "name": "Nordwind GmbH", "country": "Germany"})
    theirs = accounts({"id": "t1", "name": "Nordwind Inc", "country": "USA"})
    assert match_accounts(ours, theirs).pairs.num_rows == 0
    # ...and one company when they share a domain.
    ours = accounts({"id": "o1", "name": "Nordwind GmbH", "country": "Germany", "website": "nordwind.com"})
    theirs = accounts({"id": "t1", "name": "Nordwind Inc", "country": "USA", "website": "www.nordwind.com"})
    assert pairs(match_accounts(ours, theirs).pairs) == {("o1", "t1", "domain")}


def test_a_tie_is_left_unmatched_rather_than_guessed():
    ours = accounts({"id": "o1", "name": "Nordwind"})
    theirs = accounts(
        {"id": "t1", "name": "Nordwind", "country": "DE"}, {"id": "t2", "name": "Nordwind", "country": "US"}
    )
    assert match_accounts(ours, theirs).pairs.num_rows == 0


def test_each_record_keeps_only_its_best_name_match():
    ours = accounts({"id": "o1", "name": "Globex Industries", "country": "US"})
    theirs = accounts(
        {"id": "t1", "name": "Globex Industires", "country": "US"},
        {"id": "t2", "name": "Globex Industries", "country": "US"},
    )
    assert pairs(match_accounts(ours, theirs).pairs) == {("o1", "t2", "name_country")}


def test_a_domain_on_too_many_records_is_no_key():
    ours = accounts(*({"id": f"o{i}", "name": f"Branch {i}", "website": "hosting.com"} for i in range(3)))
    theirs = accounts({"id": "t1", "name": "Unrelated", "website": "hosting.com"})
    assert match_accounts(ours, theirs, settings=MatchSettings(max_records_per_key=2)).pairs.num_rows == 0
    assert match_accounts(ours, theirs, settings=MatchSettings(max_records_per_key=3)).pairs.num_rows == 3


def test_confirmed_and_rejected_pairs_win_over_the_stages():
    ours = accounts(
        {"id": "o1", "name": "Acme", "website": "acme.com"},
        {"id": "o2", "name": "Initech", "country": "US"},
        {"id": "o3", "name": "Hooli", "country": "US"},
    )
    theirs = accounts(
        {"id": "t1", "name": "Acme", "website": "acme.com"},
        {"id": "t2", "name": "Initech", "country": "US"},
        {"id": "t3", "name": "Pied Piper", "country": "US"},
    )
    overrides = Overrides(
        confirmed=pa.table({"our_id": ["o3", "o9"], "their_id": ["t3", "t1"]}),  # o9 does not exist
        rejected=pa.table({"our_id": ["o1", "o2"], "their_id": ["t1", "t2"]}),
    )
    result = match_accounts(ours, theirs, overrides=overrides)
    assert pairs(result.pairs) == {("o3", "t3", "manual")}
    row = result.pairs.to_pylist()[0]
    assert (row["score"], row["explanation"]) == (1.0, "confirmed by a user")
    assert row["name_similarity"] < 0.5  # the evidence is still shown beside the person's word


def test_domain_aliases_join_two_domains_of_one_company():
    ours = accounts({"id": "o1", "name": "Acme Deutschland", "website": "acme.de"})
    theirs = accounts({"id": "t1", "name": "Acme", "website": "https://acme.com"})
    assert match_accounts(ours, theirs).pairs.num_rows == 0
    aliases = pa.table({"alias": ["www.acme.de"], "domain": ["acme.com"]})
    row = match_accounts(ours, theirs, overrides=Overrides(domain_aliases=aliases)).pairs.to_pylist()[0]
    assert (row["method"], row["domain_agreement"]) == ("domain", "alias")
    assert row["explanation"] == "same company: acme.de and acme.com are aliases"


def test_parent_links_report_the_relation_and_stop_a_name_match():
    ours = accounts({"id": "o1", "name": "Umbrella", "website": "umbrella-robotics.com", "country": "US"})
    theirs = accounts({"id": "t1", "name": "Umbrella", "website": "umbrella.com", "country": "US"})
    # Without the link, the same name in the same country is enough.
    assert pairs(match_accounts(ours, theirs).pairs) == {("o1", "t1", "name_country")}
    links = pa.table({"child": ["umbrella-robotics.com"], "parent": ["umbrella.com"]})
    result = match_accounts(ours, theirs, overrides=Overrides(parent_links=links))
    assert pairs(result.pairs) == {("o1", "t1", "hierarchy")}
    row = result.pairs.to_pylist()[0]
    assert row["relation"] == "ours_is_subsidiary"
    assert row["explanation"] == "umbrella-robotics.com is a subsidiary of umbrella.com"


def test_empty_inputs_give_an_empty_result_with_every_column():
    empty = accounts()
    some = accounts({"id": "t1", "name": "Acme", "website": "acme.com"})
    for ours, theirs in ((empty, empty), (empty, some), (some, empty)):
        result = match_accounts(ours, theirs)
        assert result.pairs.num_rows == 0
        assert {"our_id", "their_id", "method", "score", "explanation"} <= set(result.pairs.column_names)


def test_records_with_neither_name_nor_domain_are_reported():
    ours = accounts(
        {"id": "o1", "name": "Acme"},
        {"id": "o2", "name": "  ", "website": "n/a"},
        {"id": "o3", "website": "bob@gmail.com", "country": "US"},
    )
    result = match_accounts(ours, accounts({"id": "t1", "name": "..."}))
    assert result.unkeyed_ours.to_pylist() == [{"row": 1, "id": "o2"}, {"row": 2, "id": "o3"}]
    assert result.unkeyed_theirs.to_pylist() == [{"row": 0, "id": "t1"}]


def test_a_table_without_id_or_key_columns_is_refused_by_name():
    with pytest.raises(
        MissingColumns, match="theirs accounts: missing id and a name, domain, website or email"
    ):
        match_accounts(accounts({"id": "o1", "name": "Acme"}), pa.table({"country": ["US"]}))
    with pytest.raises(MissingColumns, match=r"ours accounts: missing id$"):
        match_accounts(pa.table({"name": ["Acme"]}), accounts())


def test_email_only_partner_lists_and_populations_pass_through():
    ours = pa.table({"id": ["o1"], "name": ["Acme"], "website": ["acme.com"], "population": ["Customers"]})
    theirs = pa.table({"id": [7], "email": ["jane@acme.com"], "population": ["Open opportunities"]})
    row = match_accounts(ours, theirs).pairs.to_pylist()[0]
    assert (row["their_id"], row["method"]) == ("7", "domain")
    assert (row["our_population"], row["their_population"]) == ("Customers", "Open opportunities")


def test_a_rejected_pair_leaves_the_record_free_for_its_next_best():
    ours = accounts({"id": "o1", "name": "Globex Industries", "country": "US"})
    theirs = accounts(
        {"id": "t1", "name": "Globex Industries", "country": "US"},
        {"id": "t2", "name": "Globex Industires", "country": "US"},
    )
    rejected = Overrides(rejected=pa.table({"our_id": ["o1"], "their_id": ["t1"]}))
    assert pairs(match_accounts(ours, theirs, overrides=rejected).pairs) == {("o1", "t2", "fuzzy_name")}


def test_a_swap_in_the_middle_of_a_name_is_found_among_many_neighbours():
    # Dozens of names share the first and last letters, so neither the key nor its reverse puts the two
    # spellings next to each other; the letters in order (the third sort key) do.
    fillers = [f"Yag{c}{d}ra" for c in "abcdefghij" for d in "klmn"]
    ours = accounts({"id": "o1", "name": "Yagodra Pharma", "country": "MX"})
    theirs = accounts(
        {"id": "t1", "name": "Yagdora Pharma", "country": "Mexico"},
        *({"id": f"f{i}", "name": f"{name} Pharma", "country": "MX"} for i, name in enumerate(fillers)),
    )
    assert pairs(match_accounts(ours, theirs).pairs) == {("o1", "t1", "fuzzy_name")}


def test_domains_one_letter_apart_count_against_a_name_match():
    ours = accounts({"id": "o1", "name": "Rimuis Inc", "website": "rimuis.us", "country": "US"})
    theirs = accounts({"id": "t1", "name": "Brimuis Inc", "website": "brimuis.com", "country": "US"})
    assert match_accounts(ours, theirs).pairs.num_rows == 0
    # The same names with a domain that adds a word are left to the names (and match).
    theirs = accounts({"id": "t1", "name": "Rimuis", "website": "getrimuis.com", "country": "US"})
    assert pairs(match_accounts(ours, theirs).pairs) == {("o1", "t1", "name_country")}


def test_a_record_with_no_country_and_passing_candidates_in_two_countries_is_left_to_a_person():
    # The partner's "Nordwind" has no country: with our Dutch one on nordwind.nl it scores
    # 1 + 0.05 (same label) - 0.03 (country missing) = 1.0 (clipped), with our German one (no website)
    # 1 - 0.03 = 0.97. Both pass 0.86, in two countries: which one it is, the name cannot say.
    # (On ".com": a country-code suffix would name the country, test_lookalike_classes.)
    theirs = accounts({"id": "t1", "name": "Nordwind", "website": "nordwind.com"})
    dutch = {"id": "o1", "name": "Nordwind", "country": "NL", "website": "nordwind.nl"}
    ours = accounts(dutch, {"id": "o2", "name": "Nordwind", "country": "DE"})
    assert match_accounts(ours, theirs).pairs.num_rows == 0
    # Both in one country: the best (1.0 against 0.97) is kept.
    ours = accounts(dutch, {"id": "o2", "name": "Nordwind", "country": "NL"})
    assert pairs(match_accounts(ours, theirs).pairs) == {("o1", "t1", "fuzzy_name")}
    # The German one on a domain of its own: 1 - 0.15 - 0.03 = 0.82, under the threshold, so it is no
    # candidate that passes, and only one country is left.
    ours = accounts(dutch, {"id": "o2", "name": "Nordwind", "country": "DE", "website": "windnord.de"})
    assert pairs(match_accounts(ours, theirs).pairs) == {("o1", "t1", "fuzzy_name")}
    # The same on our side: our record with no country, the partner's in two countries.
    ours = accounts({"id": "o1", "name": "Nordwind", "website": "nordwind.com"})
    theirs = accounts(
        {"id": "t1", "name": "Nordwind", "country": "NL", "website": "nordwind.nl"},
        {"id": "t2", "name": "Nordwind", "country": "DE"},
    )
    assert match_accounts(ours, theirs).pairs.num_rows == 0
