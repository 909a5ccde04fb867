"""Company names reduced to a comparable key: case, accents, punctuation, `&`, a leading "The", legal forms.

Decisions: accents are dropped ("Müller" → "muller", so "Mueller" is close but not equal, and is left
to fuzzy matching); "&" is "and" ("AT&T" = "AT and T"); CJK legal forms are dropped but scripts are
not transliterated ("株式会社トヨタ" → "トヨタ", never "toyota").
"""

from __future__ import annotations

import re
from functools import cache

import pyarrow as pa

from ecoops.engines.matching.legal_forms import (
    CJK_LEGAL_FORMS,
    GENERIC_WORDS,
    LEADING_LEGAL_FORMS,
    TRAILING_LEGAL_FORMS,
)
from ecoops.engines.matching.relations import query

_APOSTROPHES = "\u2019`\u00b4"  # typographic apostrophe, grave and acute accents, dropped like '


def _alternation(words: tuple[str, ...]) -> str:
    # Longest first, so "sa de cv" is tried before "sa"; RE2 takes a backslash before punctuation only.
    longest_first = sorted(set(words), key=len, reverse=True)
    return "|".join(re.sub(r"([().*+?\[\]{}|^$\\])", r"\\\1", w) for w in longest_first)


@cache
def _names_sql() -> str:
    # Letters that Unicode does not decompose into a base letter and an accent.
    single = ("øłđħıŀŧ", "oldhilt")
    generic = ", ".join(f"'{w}'" for w in GENERIC_WORDS)
    # Built from this package's own constants only, never from input.
    return f"""
WITH cleaned AS (
  SELECT regexp_replace(regexp_replace(regexp_replace(
           replace(replace(replace(replace(replace(translate(strip_accents(lower(nfc_normalize(
             regexp_replace(CAST(name AS VARCHAR), '{_alternation(CJK_LEGAL_FORMS)}', ' ', 'g')))),
             '{single[0]}', '{single[1]}'), 'ß', 'ss'), 'æ', 'ae'), 'œ', 'oe'), 'þ', 'th'), '&', ' and '),
           '[''{_APOSTROPHES}.]', '', 'g'),
           '[^\\p{{L}}\\p{{M}}\\p{{N}}]+', ' ', 'g'),
           '^ +| +$', '', 'g') AS n
  FROM input
), unprefixed AS (
  SELECT CASE WHEN n LIKE 'the %' THEN n[5:] ELSE n END AS n FROM cleaned
), stripped AS (
  SELECT n, regexp_replace(regexp_replace(' ' || n || ' ',
           '(?: (?:{_alternation(TRAILING_LEGAL_FORMS)}))+ $', ''),
           '^ (?:{_alternation(LEADING_LEGAL_FORMS)}) ', '') AS s
  FROM unprefixed
), keyed AS (
  -- A name that is nothing but a legal form ("The Company") keeps it rather than vanish.
  SELECT nullif(CASE WHEN trim(s) = '' THEN n ELSE trim(s) END, '') AS name_key FROM stripped
)
SELECT name_key,
       coalesce(nullif(array_to_string(
                  list_filter(string_split(name_key, ' '), lambda w: w NOT IN ({generic})), ''), ''),
                replace(name_key, ' ', '')) AS name_core
FROM keyed
"""  # noqa: S608


def name_keys(names: pa.Array | pa.ChunkedArray) -> pa.Table:
    """For each company name, `name_key` (compared) and `name_core` (blocking: no spaces or generic words).

    Both are null for a null or empty name, or one made only of punctuation.
    """
    return query(_names_sql(), input=pa.table({"name": names}))


def normalise_name(name: str | None) -> str | None:
    """The comparable key of one company name ("The Acme Company, Inc." → "acme")."""
    key: str | None = name_keys(pa.array([name], pa.string())).column("name_key")[0].as_py()
    return key
