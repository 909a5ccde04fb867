"""Country names, ISO 3166 codes and common variants ("USA", "UK", "Deutschland") to ISO alpha-2 codes."""

from __future__ import annotations

import unicodedata
from functools import cache

import pyarrow as pa
import pyarrow.compute as pc
import pycountry

# Each distinct value is looked up once in a table built from pycountry plus the aliases below, so a million
# rows cost one dictionary pass over a few hundred distinct spellings.

# Names that pycountry does not carry: English short forms, endonyms, old names, nations of the UK.
COUNTRY_ALIASES: dict[str, str] = {
    "usa": "US",
    "us": "US",
    "u s": "US",
    "u s a": "US",
    "united states of america": "US",
    "america": "US",
    "the united states": "US",
    "etats unis": "US",
    "vereinigte staaten": "US",
    "uk": "GB",
    "u k": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "united kingdom of great britain": "GB",
    "deutschland": "DE",
    "republique francaise": "FR",
    "allemagne": "DE",
    "brd": "DE",
    "holland": "NL",
    "the netherlands": "NL",
    "nederland": "NL",
    "schweiz": "CH",
    "suisse": "CH",
    "svizzera": "CH",
    "osterreich": "AT",
    "espana": "ES",
    "italia": "IT",
    "brasil": "BR",
    "mexique": "MX",
    "belgie": "BE",
    "belgique": "BE",
    "sverige": "SE",
    "norge": "NO",
    "danmark": "DK",
    "suomi": "FI",
    "polska": "PL",
    "eire": "IE",
    "ceska republika": "CZ",
    "czech republic": "CZ",
    "magyarorszag": "HU",
    "hellas": "GR",
    "ellada": "GR",
    "russia": "RU",
    "rossiya": "RU",
    "россия": "RU",
    "south korea": "KR",
    "korea": "KR",
    "republic of korea": "KR",
    "north korea": "KP",
    "turkey": "TR",
    "turkiye": "TR",
    "vietnam": "VN",
    "iran": "IR",
    "syria": "SY",
    "laos": "LA",
    "taiwan": "TW",
    "macau": "MO",
    "hong kong sar": "HK",
    "uae": "AE",
    "u a e": "AE",
    "emirates": "AE",
    "ivory coast": "CI",
    "cote divoire": "CI",
    "bolivia": "BO",
    "venezuela": "VE",
    "tanzania": "TZ",
    "moldova": "MD",
    "palestine": "PS",
    "vatican": "VA",
    "holy see": "VA",
    "burma": "MM",
    "swaziland": "SZ",
    "cape verde": "CV",
    "macedonia": "MK",
    "east timor": "TL",
    "zaire": "CD",
    "drc": "CD",
    "congo kinshasa": "CD",
    "congo brazzaville": "CG",
    "micronesia": "FM",
    "nippon": "JP",
    "nihon": "JP",
    "日本": "JP",
    "中国": "CN",
    "prc": "CN",
    "mainland china": "CN",
    "bharat": "IN",
}


def _fold(text: str) -> str:
    """Lower case, accents dropped, punctuation as spaces: the form every lookup key is written in."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    letters = "".join(c if c.isalnum() else " " for c in decomposed if not unicodedata.combining(c))
    return " ".join(letters.split())


@cache
def _codes_by_spelling() -> dict[str, str]:
    codes: dict[str, str] = {}
    for country in pycountry.countries:
        for attribute in ("name", "official_name", "common_name", "alpha_3", "alpha_2"):
            spelling = getattr(country, attribute, None)
            if spelling:
                codes[_fold(spelling)] = country.alpha_2
    codes.update({_fold(alias): code for alias, code in COUNTRY_ALIASES.items()})
    return codes


def country_code(value: str | None) -> str | None:
    """The ISO alpha-2 code of a country name, code or common variant, or None when not a country."""
    if value is None:
        return None
    return _codes_by_spelling().get(_fold(value))


def country_codes(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """`country_code` of each value, looking each distinct value up once."""
    encoded = pc.dictionary_encode(pc.cast(values, pa.string()))
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    codes = pa.array([country_code(v) for v in encoded.dictionary.to_pylist()], pa.string())
    result: pa.Array = pc.take(codes, encoded.indices)
    return result


# Country-code suffixes that companies anywhere register for their look ("acme.io", "acme.ai", "acme.tv"),
# so they say nothing of where a company is; "uk" is Britain's, though its ISO code is GB.
_GENERIC_COUNTRY_SUFFIXES = frozenset(
    {"ac", "ad", "ag", "ai", "am", "as", "bz", "cc", "cd", "cf", "co", "cx", "dj", "fm", "ga", "gg", "gl",
     "gq", "gs", "im", "io", "je", "la", "li", "ly", "me", "ml", "ms", "mu", "nu", "sc", "sh", "so", "st",
     "tk", "tm", "to", "tv", "vc", "vg", "ws", "eu"}
)  # fmt: skip


def countries_of_domains(domains: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The country each registrable domain's country-code suffix names ("ihi.fr" → FR, "acme.co.uk" →
    GB), or null: for ".com" and the other generic suffixes, and for country codes that companies
    anywhere use for their look (".io", ".ai", ".co", ".tv" …)."""
    last = pc.utf8_lower(pc.replace_substring_regex(pc.cast(domains, pa.string()), r"^.*\.", ""))
    encoded = pc.dictionary_encode(last)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    known = {c.alpha_2.lower() for c in pycountry.countries} | {"uk"}
    codes = pa.array(
        [
            ("GB" if v == "uk" else v.upper()) if v in known and v not in _GENERIC_COUNTRY_SUFFIXES else None
            for v in encoded.dictionary.to_pylist()
        ],
        pa.string(),
    )
    result: pa.Array = pc.take(codes, encoded.indices)
    return result
