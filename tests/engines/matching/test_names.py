"""Company-name keys: legal forms across languages, accents, `&`, a leading "The", punctuation, scripts."""

import pyarrow as pa
import pytest

from ecoops.engines.matching import name_keys, normalise_name


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("The Acme Company, Inc.", "ACME Co"),
        ("Acme Corporation", "acme corp."),
        ("AT&T Inc.", "AT and T"),
        ("Société Générale S.A.", "societe generale"),
        ("Toyota KK", "TOYOTA Kabushiki Kaisha"),
        ("Samsung Electronics Co., Ltd.", "Samsung Electronics"),
        ("Siemens AG", "Siemens"),
        ("Bosch GmbH & Co. KG", "Bosch"),
        ("Philips N.V.", "Philips NV"),
        ("Grupo Bimbo, S.A.B. de C.V.", "Grupo Bimbo"),
        ("A.P. Møller - Mærsk A/S", "AP Moller Maersk"),
        ("Tiffany & Co.", "Tiffany"),
        ("PT Bank Central Asia Tbk", "Bank Central Asia"),
        ("Polska Grupa Sp. z o.o.", "Polska Grupa"),
        ("McDonald's Corporation", "McDonalds"),
        ("  Acme\t\tInc  ", "acme"),
        ("Xixaal & Co. Ltd", "Xixaal"),  # "co ltd" goes first; the "and" it leaves goes too
        ("Toasatac Marine Aktiebolag", "Toasatac Marine AB"),  # a legal form written out in full
        ("Müller Gesellschaft mit beschränkter Haftung", "Müller GmbH"),
        ("Renault Société Anonyme", "Renault S.A."),
        ("株式会社トヨタ", "トヨタ(株)"),  # the Japanese form, before or after, is dropped
    ],
)
def test_same_key(one, other):
    assert normalise_name(one) == normalise_name(other)


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("The Acme Company, Inc.", "acme"),
        ("Müller GmbH", "muller"),
        ("Mueller", "mueller"),  # decided: no ue→ü folding; left to the fuzzy stage (similarity 0.92)
        ("AT&T", "at and t"),
        ("Société Générale S.A.", "societe generale"),
        ("株式会社トヨタ", "トヨタ"),  # decided: no transliteration, so never equal to "toyota"
        ("삼성전자 주식회사", "삼성전자"),
        ("ООО Газпром", "газпром"),  # noqa: RUF001 - Cyrillic on purpose
        ("The Company", "company"),  # nothing but a legal form: kept rather than emptied
        ("Inc", "inc"),
        ("Ærø Øl ApS", "aero ol"),
        ("Straße AG", "strasse"),
        ("Acme Holdings International", "acme holdings international"),  # descriptors stay in the key
        ("Johnson and Johnson", "johnson and johnson"),  # only a trailing "and" goes
        ("Marks & Spencer plc", "marks and spencer"),
    ],
)
def test_key(name, key):
    assert normalise_name(name) == key


@pytest.mark.parametrize("name", [None, "", "   ", "...", "—", "''", "(),;:!?"])
def test_nothing_to_compare_is_null(name):
    assert normalise_name(name) is None


def test_blocking_core_is_the_key_without_spaces():
    keys = name_keys(pa.array(["Acme Holdings International", "Data Dog Inc", "DataDog, Inc.", None]))
    assert keys.column("name_core").to_pylist() == ["acmeholdingsinternational", "datadog", "datadog", None]
    assert keys.column("name_key").to_pylist() == ["acme holdings international", "data dog", "datadog", None]


def test_huge_and_odd_names_keep_their_row():
    huge = "Acme " * 50_000 + "Inc"
    keys = name_keys(pa.array([huge, "\u0000Acme\u200b", "🚀 Rocket Labs LLC", "x" * 1_000_000]))
    values = keys.column("name_key").to_pylist()
    assert values[0] == ("acme " * 50_000).strip()
    assert values[2] == "rocket labs"
    assert values[3] == "x" * 1_000_000
    assert keys.num_rows == 4


@pytest.mark.parametrize(
    ("name", "key", "structure"),
    [
        # A typo in a long legal form (one word of 6 letters or more): any one edit, a changed letter too.
        ("Chevron Cortporation", "chevron", None),  # a letter added
        ("Eaton Corporaion", "eaton", None),  # a letter dropped
        ("Moodys Corpzration", "moodys", None),  # a letter changed: "corporation" has 11 letters
        ("Acme Gesmbhh", "acme", None),  # "gesmbh" is 6 letters: the shortest form a typo stands for
        ("Acme Gmbhh", "acme gmbhh", None),  # "gmbh" (4) is not: one edit from a short form is a word
        ("Acme Corporatoin", "acme", None),  # two neighbours swapped: one edit
        ("Acme Corproatoin", "acme corproatoin", None),  # two edits: not a typo of the form
        # A typo in a structure word keeps its class; before it, the name loses its forms again.
        ("Axa Hloding", "axa", "holding"),
        ("GSK plc oHlding plc", "gsk", "holding"),
        ("Engie Gorup S.A.", "engie", "group"),
        ("Acme roup", "acme", "group"),  # four letters left of "group"
        # A changed letter in a short word (under 8 letters) is often another word, so it stays ...
        ("Precision Molding", "precision molding", None),  # "holding" has 7 letters
        ("Acme Grout", "acme grout", None),
        # ... and from 8 letters it is a typo ("holdings").
        ("Acme Holdinqs", "acme", "holding"),
        ("Acme Holdinq", "acme holdinq", None),
        # The typo'd word must follow a name: on its own it is the name.
        ("Corporaton", "corporaton", None),
        # After a last comma, where legal forms stand, one edit from a short form (a changed letter
        # too) is that form mistyped ...
        ("RXO, Irnc.", "rxo", None),
        ("HealthStream, dnc.", "healthstream", None),
        ("Foo Holding, Icn", "foo", "holding"),
        # ... and so is it after a comma with more forms after it: the form's place ...
        ("Halvard, Ibnc. plc", "halvard", None),
        ("Tornquist Holdings, znc. AG", "tornquist", "holding"),
        ("Vellum, Intc., SA", "vellum", None),
        # ... but not without the comma, nor a word further from any form, nor a word after which the
        # name goes on.
        ("Barnes, Inks, LLC", "barnes inks", None),
        ("Wrent, Inf Systems", "wrent inf systems", None),
        ("Acme Ink", "acme ink", None),
        ("Brown, Shipley", "brown shipley", None),
    ],
)
def test_typos_in_legal_forms_and_structure_words(name, key, structure):
    keyed = name_keys(pa.array([name])).to_pylist()[0]
    assert (keyed["name_key"], keyed["structure"]) == (key, structure)


def _letters(i: int) -> str:
    return "".join("bdfkmpqvxz"[(i // 10**k) % 10] for k in range(6))  # no form or structure word


def test_keys_keep_the_row_order_of_a_large_list():
    # Above the row count that is keyed in parallel slices, with many distinct last words and typo'd
    # forms among them: each key stays beside its name (the typo check's IN lists can become joins inside
    # DuckDB, which reorder rows).
    size = 300_000
    names = [f"Firm {_letters(i)} Holdign" if i % 3 == 0 else f"Firm co{_letters(i)}" for i in range(size)]
    keyed = name_keys(pa.array(names))
    assert keyed.column("name_key").to_pylist() == [
        f"firm {_letters(i)}" if i % 3 == 0 else f"firm co{_letters(i)}" for i in range(size)
    ]
    assert keyed.column("structure").to_pylist() == ["holding" if i % 3 == 0 else None for i in range(size)]
