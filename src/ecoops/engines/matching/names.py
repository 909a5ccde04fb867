"""Company names reduced to a comparable key: case, accents, punctuation, `&`, leading "The", legal forms."""

from __future__ import annotations

import re
from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz import process
from rapidfuzz.distance import OSA, Levenshtein

from ecoops.engines.matching.legal_forms import (
    CJK_LEGAL_FORMS,
    FORM_COUNTRIES,
    LEADING_LEGAL_FORMS,
    STRUCTURE_WORDS,
    TRAILING_LEGAL_FORMS,
    form_countries,
)
from ecoops.engines.matching.relations import project

# Decisions: accents are dropped ("Müller" → "muller", so "Mueller" is close but not equal, and is left to
# fuzzy matching); "&" is "and" ("AT&T" = "AT and T"); CJK legal forms are dropped but scripts are not
# transliterated ("株式会社トヨタ" → "トヨタ", never "toyota").

_APOSTROPHES = "\u2019`\u00b4"  # typographic apostrophe, grave and acute accents, dropped like '
# Numbers in a name: digit runs, and Roman numerals from II as words ("Fund III"); a lone "I" is a word
# ("Seven & I"). Two names whose numbers differ are two companies ("Studio 54", "Acme 3" / "Acme 7").
ROMAN_NUMERALS = "ii|iii|iv|v|vi|vii|viii|ix|x|xi|xii|xiii|xiv|xv|xx"


def _alternation(words: tuple[str, ...]) -> str:
    # Longest first, so "sa de cv" is tried before "sa"; RE2 takes a backslash before punctuation only.
    longest_first = sorted(set(words), key=len, reverse=True)
    return "|".join(re.sub(r"([().*+?\[\]{}|^$\\])", r"\\\1", w) for w in longest_first)


# Typos in legal forms and structure words: the long legal forms (written as one word) are the ones typed
# out and so mistyped ("Corporaton", "Compnay"); short ones ("inc", "ag") one edit away are other words.
TYPO_LEGAL_FORMS = tuple(f for f in TRAILING_LEGAL_FORMS if " " not in f and len(f) >= 6)
_TYPO_MIN_TARGET = 5  # letters of a form or structure word that a typo'd word may stand for
_TYPO_MIN_WORD = 4  # letters of the typo'd word ("roup" for "group")
# A changed letter is a typo only in a form of at least this many letters: in a short word one changed
# letter is often another word ("holding" / "molding", "golding"; "group" / "grout"), while a letter
# dropped, added or two swapped ("hoding", "holdinng", "hloding") are not words.
_TYPO_SUBSTITUTION_MIN = 8


# A word after a comma with only legal forms after it, of this many letters, one edit (any: a changed
# letter too) from a legal form written as one word of at least `_COMMA_FORM_MIN` letters, is that form
# mistyped: a comma is where a legal form stands ("RXO, Irnc.", "HealthStream, dnc.", "Tesla, Ibnc. plc").
# Without the comma such short words are words.
_COMMA_FORM_MIN, _COMMA_FORM_MAX = 3, 6


def _comma_form_typos(words: pa.Array) -> pa.Array:
    """Whether each word (after a last comma; null for none) is one edit from a short legal form."""
    distinct = pc.unique(words.filter(pc.is_valid(words)))
    if len(distinct) == 0:
        return pc.fill_null(pc.is_valid(words), False)
    forms = [f for f in TRAILING_LEGAL_FORMS if " " not in f and len(f) >= _COMMA_FORM_MIN]
    distances = process.cdist(
        distinct.to_pylist(), forms, scorer=OSA.distance, score_cutoff=1, workers=-1, dtype=np.int32
    )
    typos = pa.array((distances == 1).any(axis=1))
    found: pa.Array = pc.fill_null(typos.take(pc.index_in(words, value_set=distinct)), False)
    return found


def _typo_targets() -> list[tuple[str, str]]:
    """(class, word) of the forms and structure words a typo'd last word may stand for, in the order tried:
    "legal" for a legal form, else the structure word's class."""
    words_of = {c: tuple(w for w, k in STRUCTURE_WORDS.items() if k == c) for c in STRUCTURE_WORDS.values()}
    return [
        (cls, word)
        for cls, words in (("legal", TYPO_LEGAL_FORMS), *sorted(words_of.items()))
        for word in words
        if len(word) >= _TYPO_MIN_TARGET
    ]


def _typo_classes(last: pa.Array) -> pa.Array:
    """The class (see `_typo_targets`) of each word that is one edit from a target (a swap of two neighbours
    counts as one; for a target under `_TYPO_SUBSTITUTION_MIN` letters, not a changed letter), else null."""
    targets = _typo_targets()
    words = pc.unique(last.filter(pc.is_valid(last)))
    if len(words) == 0:
        return pa.nulls(len(last), pa.string())
    values = words.to_pylist()
    distances = process.cdist(
        values, [w for _, w in targets], scorer=OSA.distance, score_cutoff=1, workers=-1, dtype=np.int32
    )
    classes: list[str | None] = [None] * len(values)
    for i, j in zip(*np.nonzero(distances == 1), strict=True):
        word, (cls, target) = values[i], targets[j]
        if classes[i] is not None:
            continue  # the first target in order wins
        changed_letter = len(word) == len(target) and Levenshtein.distance(word, target) == 1
        if len(target) >= _TYPO_SUBSTITUTION_MIN or not changed_letter:
            classes[i] = cls
    found: pa.Array = pa.array(classes, pa.string()).take(pc.index_in(last, value_set=words))
    return found


@cache
def _names_sql() -> tuple[str, str]:
    """Two queries: names to their stripped form and last word (`input` → `stripped`), then, with each last
    word's typo class beside it (`_typo_classes`), to the keys."""
    # Letters that Unicode does not decompose into a base letter and an accent.
    single = ("øłđħıŀŧ", "oldhilt")
    # "and" joins a legal form to the name ("Acme & Co. Ltd"): the stripping takes "co ltd" first and
    # would leave "acme and", so a trailing "and" goes with the forms (a name never ends in "and").
    # Structure words ("group", "holding") go with them, and are read back from what was stripped.
    reversed_forms = tuple(form[::-1] for form in (*TRAILING_LEGAL_FORMS, *STRUCTURE_WORDS, "and"))
    words_of = {c: tuple(w for w, k in STRUCTURE_WORDS.items() if k == c) for c in STRUCTURE_WORDS.values()}
    strip_forms = f"'^ *(?:(?:{_alternation(reversed_forms)})(?: +|$))+'"
    # A typo in a legal form or a structure word ("Chevron Cortporation", "Axa Hloding", "Engie Gorup"):
    # the last word, one edit from a long form or a structure word, goes with the forms (see `_typo_of`).
    # Most last words are nowhere near a target: one edit leaves a word's first two letters or its last two
    # as they were, so only words with a target's ends are compared (in `_typo_classes`).
    targets = [w for _, w in _typo_targets()]
    heads = ", ".join(sorted({f"'{w[:2]}'" for w in targets}))
    tails = ", ".join(sorted({f"'{w[-2:]}'" for w in targets}))
    structure = ", ".join(
        f"CASE WHEN regexp_matches(tail, '(?:^| )(?:{_alternation(words)})(?: |$)') OR typo = '{cls}'"
        f" THEN '{cls}' END"
        for cls, words in sorted(words_of.items())
    )
    # Most names are ASCII (byte length = character length): they skip the Unicode folding.
    # Trailing legal forms are stripped from the reversed name, so the pattern is anchored and cheap.
    return (
        f"""
WITH folded AS (
  SELECT CASE WHEN strlen(name) = length(name)
              THEN translate(lower(name), '''.`', '')
              ELSE regexp_replace(
                     replace(replace(replace(replace(translate(strip_accents(lower(nfc_normalize(
                       regexp_replace(name, '{_alternation(CJK_LEGAL_FORMS)}', ' ', 'g')))),
                       '{single[0]}', '{single[1]}'), 'ß', 'ss'), 'æ', 'ae'), 'œ', 'oe'), 'þ', 'th'),
                     '[''{_APOSTROPHES}.]', '', 'g')
         END AS n, i
  FROM (SELECT CAST(name AS VARCHAR) AS name, i FROM input)
), spaced AS (
  -- Most names are letters and single spaces already: only the others pay for the replacement.
  SELECT CASE WHEN regexp_matches(n, '[^\\p{{L}}\\p{{M}}\\p{{N}} ]|  ')
              THEN regexp_replace(replace(n, '&', ' and '), '[^\\p{{L}}\\p{{M}}\\p{{N}}]+', ' ', 'g')
              ELSE n END AS n, i,
         -- The words after a comma ("RXO, Irnc.", "Tesla, Ibnc. plc"): where a legal form stands, so the
         -- one left last once the forms are stripped, one edit from a short form, is that form mistyped
         -- (`_comma_form_typos`).
         regexp_extract_all(n, ', *([a-z]{{{_COMMA_FORM_MIN},{_COMMA_FORM_MAX}}})\\b', 1) AS after_comma
  FROM folded
), unprefixed AS (
  SELECT i, n, after_comma,
         regexp_replace(n, '^ *(?:the +)?(?:(?:{_alternation(LEADING_LEGAL_FORMS)}) +)?', '') AS u
  FROM spaced
), stripped AS (
  SELECT i, n, u, after_comma, trim(reverse(regexp_replace(reverse(u), {strip_forms}, ''))) AS s
  FROM unprefixed
), last_word AS (
  SELECT i, n, u, s, after_comma, regexp_extract(s, '. ([a-z]{{{_TYPO_MIN_WORD},}})$', 1) AS last
  FROM stripped
)
SELECT i, n, u, s, CASE WHEN left(last, 2) IN ({heads}) OR right(last, 2) IN ({tails}) THEN last END AS last,
       CASE WHEN len(after_comma) > 0 AND list_contains(after_comma, regexp_extract(s, ' ([a-z]+)$', 1))
            THEN regexp_extract(s, ' ([a-z]+)$', 1) END AS comma_last
FROM last_word ORDER BY i
""",  # noqa: S608
        f"""
WITH restripped AS (
  -- What is before the typo'd word loses its own forms ("GSK plc Hloding plc" -> "gsk").
  SELECT i, n, u, typo, last,
         CASE WHEN typo IS NULL THEN s
              ELSE coalesce(nullif(trim(reverse(regexp_replace(
                     reverse(s[:length(s) - length(last) - 1]), {strip_forms}, ''))), ''), s) END AS s
  FROM stripped
)
, keyed AS (
  -- A name that is nothing but a legal form ("The Company") keeps it rather than vanish.
  SELECT i, coalesce(nullif(s, ''), nullif(trim(u), ''), nullif(trim(n), '')) AS name_key, typo,
         CASE WHEN s <> '' AND length(s) < length(trim(u)) THEN trim(u)[length(s) + 1:] END AS tail
  FROM restripped
)
SELECT name_key, nullif(concat_ws(' ', {structure}), '') AS structure, trim(tail) AS tail,
       CASE WHEN regexp_matches(name_key, '[0-9]| [ivx]+(?: |$)')
            THEN nullif(array_to_string(list_concat(
                   regexp_extract_all(name_key, '[0-9]+'),
                   regexp_extract_all(' ' || replace(name_key, ' ', '  ') || ' ', ' ({ROMAN_NUMERALS}) ', 1)),
                 ' '), '') END AS numbers
FROM keyed ORDER BY i
""",  # noqa: S608
    )


def name_keys(names: pa.Array | pa.ChunkedArray) -> pa.Table:
    """For each company name, `name_key` (compared), `name_core` (blocking: the key without spaces),
    `structure` (the classes of the structure words stripped from its end, "group" or "holding", or
    null) and `numbers` (its numbers in order, "54" or "ii", or null).

    The keys are null for a null or empty name, or one made only of punctuation.
    """
    stripping, keying = _names_sql()
    # Each query ends in ORDER BY i: a chain of CTEs does not keep the input's order by itself.
    rows = pa.array(np.arange(len(names), dtype=np.int64))
    stripped = project(stripping, "input", pa.table({"name": names, "i": rows}))
    last = stripped.column("last").combine_chunks()
    typo = _typo_classes(last)
    comma_last = stripped.column("comma_last").combine_chunks()
    comma_typo = pc.and_(pc.is_null(typo), _comma_form_typos(comma_last))
    stripped = stripped.set_column(
        stripped.column_names.index("last"), "last", pc.if_else(comma_typo, comma_last, last)
    )
    typo = pc.if_else(comma_typo, "legal", typo)
    keyed = project(keying, "stripped", stripped.append_column("typo", typo))
    keys = keyed.column("name_key")
    return pa.table(
        {
            "name_key": keys,
            "name_core": pc.replace_substring(keys, " ", ""),
            "structure": keyed.column("structure"),
            "numbers": keyed.column("numbers"),
            **_legal_form_clues(keyed.column("tail")),
        }
    )


def _legal_form_clues(tails: pa.ChunkedArray) -> dict[str, pa.Array]:
    """`legal_forms` (the forms of few countries among what was stripped from each name's end, "sa") and
    `form_countries` (the countries whose law has them all, "BE CH ES FR ..."; see `form_countries`).
    Worked out once per distinct tail: a few hundred in a million names."""
    tails = tails.combine_chunks()
    distinct = pc.unique(tails.filter(pc.is_valid(tails))).to_pylist()
    forms = [" ".join(w for w in t.split() if w in FORM_COUNTRIES) for t in distinct]
    countries = [form_countries(t) for t in distinct]
    at = pc.index_in(tails, value_set=pa.array(distinct, pa.string()))
    return {
        "legal_forms": pa.array([f if c else None for f, c in zip(forms, countries, strict=True)]).take(at),
        "form_countries": pa.array(countries, pa.string()).take(at),
    }


def normalise_name(name: str | None) -> str | None:
    """The comparable key of one company name ("The Acme Company, Inc." → "acme")."""
    key: str | None = name_keys(pa.array([name], pa.string())).column("name_key")[0].as_py()
    return key
