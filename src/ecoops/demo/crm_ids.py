"""Salesforce record ids, in the 18-character case-safe form its exports and APIs use."""

from __future__ import annotations

import string

_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_CASE_SUFFIX = string.ascii_uppercase + "012345"

ACCOUNT = "001"
OPPORTUNITY = "006"
OPPORTUNITY_HISTORY = "008"


def _base62(number: int, width: int) -> str:
    digits = []
    while number:
        number, digit = divmod(number, 62)
        digits.append(_BASE62[digit])
    return "".join(reversed(digits)).rjust(width, "0")


def case_safe(record_id: str) -> str:
    """The 18-character form of a 15-character Salesforce id: a letter per 5 characters marks the capitals."""
    return record_id + "".join(
        _CASE_SUFFIX[sum(1 << bit for bit, char in enumerate(record_id[start : start + 5]) if char.isupper())]
        for start in (0, 5, 10)
    )


def salesforce_id(key_prefix: str, number: int, *, instance: str = "8d") -> str:
    """The id Salesforce would give the `number`-th record of an object (key prefix `001`, `006`…)."""
    return case_safe(f"{key_prefix}{instance}0{_base62(number, 9)}")
