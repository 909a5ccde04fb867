"""Deciding one field: written, left, or a conflict — each boundary of "a person changed it"."""

from __future__ import annotations

import pytest

from ecoops.crm.writeback.plan import Outcome, cut, decide, needs_look


@pytest.mark.parametrize(
    ("desired", "last", "current", "outcome"),
    [
        ("Acme", None, "", Outcome.WRITE),  # never written, empty: ecoops fills it
        ("Acme", None, "Acme", Outcome.UNCHANGED),  # a person typed what ecoops would: settled
        ("Acme", None, "typed", Outcome.CONFLICT),  # a person's value where ecoops never wrote
        ("Acme; Beta", "Acme", "Acme", Outcome.WRITE),  # still what ecoops wrote: updated
        ("Acme; Beta", "Acme", "Acme (call Dana)", Outcome.CONFLICT),  # edited since: kept
        ("Acme; Beta", "Acme", "", Outcome.CONFLICT),  # emptied by a person is a change too
        ("", "Acme", "Acme", Outcome.WRITE),  # the partner left: cleared
        ("", "Acme", "", Outcome.UNCHANGED),
    ],
)
def test_decide(desired: str, last: str | None, current: str, outcome: Outcome) -> None:
    assert decide(desired, last, current) == outcome


def test_only_values_unlike_the_ledger_are_looked_at() -> None:
    assert not needs_look("Acme", "Acme")
    assert not needs_look("", None)  # nothing to say and never written: no request
    assert needs_look("Acme", None) and needs_look("", "Acme")


def test_cut_at_the_fields_length() -> None:
    assert cut("abcde", 5) == "abcde"
    assert cut("abcdef", 5) == "abcd…" and len(cut("abcdef", 5)) == 5
