"""Helpers for the PSI tests: run a whole exchange, and the plaintext join it must equal."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from ecoops.engines.psi import Item, Party, new_session_id


@dataclass
class Run:
    initiator: Party
    responder: Party
    messages: list[bytes]


def run_exchange(
    ours: Sequence[Item], theirs: Sequence[Item], mode: str = "reveal", **options: object
) -> Run:
    sid = new_session_id()
    a = Party(ours, session_id=sid, role="initiator", mode=mode, **options)  # type: ignore[arg-type]
    b = Party(theirs, session_id=sid, role="responder", mode=mode, **options)  # type: ignore[arg-type]
    m1 = a.step1()
    m2 = b.step2(m1)
    m3 = a.step3(m2)
    m4 = b.step4(m3)
    a.finish(m4)
    return Run(a, b, [m1, m2, m3, m4])


def plaintext_pairs(ours: Sequence[Item], theirs: Sequence[Item]) -> set[tuple[str, str]]:
    """(our id, their id) for every two records sharing a non-empty key: the join PSI must equal."""
    return {
        (a.record_id, b.record_id)
        for a in ours
        for b in theirs
        if {k for k in a.keys if k} & {k for k in b.keys if k}
    }


def plaintext_counts(ours: Sequence[Item], theirs: Sequence[Item]) -> dict[tuple[str, str], int]:
    by_id = {b.record_id: b for b in theirs}
    mine = {a.record_id: a for a in ours}
    counts = Counter((mine[a].population, by_id[b].population) for a, b in plaintext_pairs(ours, theirs))
    return dict(counts)
