"""What to do with one record's field: write, leave (unchanged), or report a conflict.

`last` is what ecoops last wrote there (the ledger; None: never written, which counts as an empty
field ecoops may fill). A person's change is a CRM value that is neither what ecoops last wrote nor
what it would write now: ecoops then never writes, it reports the conflict.
"""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    WRITE = "write"
    UNCHANGED = "unchanged"  # the CRM already holds the value (no call for it)
    CONFLICT = "conflict"


def needs_look(desired: str, last: str | None) -> bool:
    """Whether the CRM's value must be read at all: not when the value is what was last written."""
    return desired != (last or "")


def decide(desired: str, last: str | None, current: str) -> Outcome:
    if current == desired:
        return Outcome.UNCHANGED
    if current != (last or ""):
        return Outcome.CONFLICT
    return Outcome.WRITE


def cut(value: str, length: int) -> str:
    """A value no longer than the field holds (the CRM refuses longer ones): cut, ending with …."""
    return value if len(value) <= length else value[: max(length - 1, 0)] + "…"
