"""Company names reduced to a comparable key: case, accents, punctuation, `&`, leading "The", legal forms."""

from __future__ import annotations

import re
from functools import cache

import pyarrow as pa
import pyarrow.compute as pc

from ecoops.engines.matching.legal_forms import (
    CJK_LEGAL_FORMS,
    LEADING_LEGAL_FORMS,
    STRUCTURE_WORDS,
    TRAILING_LEGAL_FORMS,
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


def _typo_of(word: str) -> str:
    """SQL: `last` is one edit from `word` (a swap of two neighbours counts as one), and for a short
    `word` not by a changed letter."""
    one_edit = f"abs(length(last) - {len(word)}) <= 1 AND damerau_levenshtein(last, '{word}') = 1"
    if len(word) >= _TYPO_SUBSTITUTION_MIN:
        return f"({one_edit})"
    return f"({one_edit} AND (length(last) <> {len(word)} OR levenshtein(last, '{word}') = 2))"


@cache
def _names_sql() -> str:
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
    typo_class = " ".join(
        f"WHEN {_typo_of(word)} THEN '{cls}'"
        for cls, words in (("legal", TYPO_LEGAL_FORMS), *sorted(words_of.items()))
        for word in words
        if len(word) >= _TYPO_MIN_TARGET
    )
    structure = ", ".join(
        f"CASE WHEN regexp_matches(tail, '(?:^| )(?:{_alternation(words)})(?: |$)') OR typo = '{cls}'"
        f" THEN '{cls}' END"
        for cls, words in sorted(words_of.items())
    )
    # Most names are ASCII (byte length = character length): they skip the Unicode folding.
    # Trailing legal forms are stripped from the reversed name, so the pattern is anchored and cheap.
    return f"""
WITH folded AS (
  SELECT CASE WHEN strlen(name) = length(name)
              THEN translate(lower(name), '''.`', '')
              ELSE regexp_replace(
                     replace(replace(replace(replace(translate(strip_accents(lower(nfc_normalize(
                       regexp_replace(name, '{_alternation(CJK_LEGAL_FORMS)}', ' ', 'g')))),
                       '{single[0]}', '{single[1]}'), 'ß', 'ss'), 'æ', 'ae'), 'œ', 'oe'), 'þ', 'th'),
                     '[''{_APOSTROPHES}.]', '', 'g')
         END AS n
  FROM (SELECT CAST(name AS VARCHAR) AS name FROM input)
), spaced AS (
  -- Most names are letters and single spaces already: only the others pay for the replacement.
  SELECT CASE WHEN regexp_matches(n, '[^\\p{{L}}\\p{{M}}\\p{{N}} ]|  ')
              THEN regexp_replace(replace(n, '&', ' and '), '[^\\p{{L}}\\p{{M}}\\p{{N}}]+', ' ', 'g')
              ELSE n END AS n
  FROM folded
), unprefixed AS (
  SELECT n, regexp_replace(n, '^ *(?:the +)?(?:(?:{_alternation(LEADING_LEGAL_FORMS)}) +)?', '') AS u
  FROM spaced
), stripped AS (
  SELECT n, u, trim(reverse(regexp_replace(reverse(u), {strip_forms}, ''))) AS s
  FROM unprefixed
), last_word AS (
  SELECT n, u, s, regexp_extract(s, '^(.+) ([a-z]{{{_TYPO_MIN_WORD},}})$', 1) AS head,
         regexp_extract(s, ' ([a-z]{{{_TYPO_MIN_WORD},}})$', 1) AS last
  FROM stripped
), typoed AS (
  SELECT n, u, s, head, CASE WHEN last <> '' THEN CASE {typo_class} END END AS typo FROM last_word
), restripped AS (
  -- What is before the typo'd word loses its own forms ("GSK plc Hloding plc" -> "gsk").
  SELECT n, u, typo,
         CASE WHEN typo IS NULL THEN s
              ELSE coalesce(nullif(trim(reverse(regexp_replace(reverse(head), {strip_forms}, ''))), ''),
                            s) END AS s
  FROM typoed
)
, keyed AS (
  -- A name that is nothing but a legal form ("The Company") keeps it rather than vanish.
  SELECT coalesce(nullif(s, ''), nullif(trim(u), ''), nullif(trim(n), '')) AS name_key, typo,
         CASE WHEN s <> '' AND length(s) < length(trim(u)) THEN trim(u)[length(s) + 1:] END AS tail
  FROM restripped
)
SELECT name_key, nullif(concat_ws(' ', {structure}), '') AS structure,
       CASE WHEN regexp_matches(name_key, '[0-9]| [ivx]+(?: |$)')
            THEN nullif(array_to_string(list_concat(
                   regexp_extract_all(name_key, '[0-9]+'),
                   regexp_extract_all(' ' || replace(name_key, ' ', '  ') || ' ', ' ({ROMAN_NUMERALS}) ', 1)),
                 ' '), '') END AS numbers
FROM keyed
"""  # noqa: S608


def name_keys(names: pa.Array | pa.ChunkedArray) -> pa.Table:
    """For each company name, `name_key` (compared), `name_core` (blocking: the key without spaces),
    `structure` (the classes of the structure words stripped from its end, "group" or "holding", or
    null) and `numbers` (its numbers in order, "54" or "ii", or null).

    The keys are null for a null or empty name, or one made only of punctuation.
    """
    keyed = project(_names_sql(), "input", pa.table({"name": names}))
    keys = keyed.column("name_key")
    return pa.table(
        {
            "name_key": keys,
            "name_core": pc.replace_substring(keys, " ", ""),
            "structure": keyed.column("structure"),
            "numbers": keyed.column("numbers"),
        }
    )


def normalise_name(name: str | None) -> str | None:
    """The comparable key of one company name ("The Acme Company, Inc." → "acme")."""
    key: str | None = name_keys(pa.array([name], pa.string())).column("name_key")[0].as_py()
    return key
