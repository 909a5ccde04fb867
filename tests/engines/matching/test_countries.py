"""Countries to ISO alpha-2: names, codes, endonyms and the variants CRMs are full of."""

import pyarrow as pa
import pytest

from ecoops.engines.matching import country_code, country_codes


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("USA", "US"), ("U.S.A.", "US"), ("United States of America", "US"), ("us", "US"), ("USA ", "US"),
        ("UK", "GB"), ("United Kingdom", "GB"), ("GBR", "GB"), ("England", "GB"),
        ("Deutschland", "DE"), ("Germany", "DE"), ("DEU", "DE"), ("de", "DE"),
        ("Österreich", "AT"), ("Côte d'Ivoire", "CI"), ("Ivory Coast", "CI"), ("Türkiye", "TR"),
        ("Korea, Republic of", "KR"), ("South Korea", "KR"), ("Viet Nam", "VN"), ("Vietnam", "VN"),
        ("Russian Federation", "RU"), ("République française", "FR"), ("The Netherlands", "NL"),
        ("Holland", "NL"), ("España", "ES"), ("日本", "JP"), ("Czechia", "CZ"), ("Czech Republic", "CZ"),
    ],
)  # fmt: skip
def test_country_code(value, code):
    assert country_code(value) == code


@pytest.mark.parametrize("value", [None, "", "n/a", "California", "Europe", "EMEA", "XX", "x" * 10_000])
def test_not_a_country(value):
    assert country_code(value) is None


def test_column_form_looks_each_spelling_up_once_and_keeps_positions():
    values = pa.chunked_array([["Germany", None, "usa"], ["DE", "Narnia"]])
    assert country_codes(values).to_pylist() == ["DE", None, "US", "DE", None]
    assert country_codes(pa.array([], pa.string())).to_pylist() == []
