"""The exchange finds exactly the plaintext join on the same keys, in both modes, on both sides."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecoops.engines.psi import Item
from tests.engines.psi.exchange import plaintext_counts, plaintext_pairs, run_exchange

KEYS = [f"d:site{i}.com" for i in range(8)] + [f"n:firm{i}|DE" for i in range(6)] + ["n:firm0|FR"]
POPULATIONS = ["customers", "prospects", ""]


def records(prefix: str) -> st.SearchStrategy[list[Item]]:
    record = st.tuples(st.lists(st.sampled_from(KEYS), min_size=0, max_size=3), st.sampled_from(POPULATIONS))
    return st.lists(record, max_size=12).map(
        lambda rows: [
            Item(f"{prefix}{n}", tuple(keys), population, {"id": f"{prefix}{n}", "note": "é ü"})
            for n, (keys, population) in enumerate(rows)
        ]
    )


def released_pairs(matches: list, *, ours_first: bool) -> set[tuple[str, str]]:
    return {
        (m.record_id, m.their_fields["id"]) if ours_first else (m.their_fields["id"], m.record_id)
        for m in matches
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ours=records("a"), theirs=records("b"))
def test_reveal_equals_the_plaintext_join_on_both_sides(ours: list[Item], theirs: list[Item]) -> None:
    run = run_exchange(ours, theirs, "reveal", workers=1)
    expected = plaintext_pairs(ours, theirs)
    assert released_pairs(run.initiator.result.matches, ours_first=True) == expected
    assert released_pairs(run.responder.result.matches, ours_first=False) == expected
    # one match per pair of records, however many keys they share
    assert len(run.initiator.result.matches) == len(expected) == len(run.responder.result.matches)
    counts = plaintext_counts(ours, theirs)
    assert run.initiator.result.counts == counts
    assert run.responder.result.counts == {(b, a): n for (a, b), n in counts.items()}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ours=records("a"), theirs=records("b"))
def test_counts_only_equals_plaintext_counts_per_population_pair(
    ours: list[Item], theirs: list[Item]
) -> None:
    run = run_exchange(ours, theirs, "count", workers=1)
    counts = plaintext_counts(ours, theirs)
    assert run.initiator.result.counts == counts
    assert run.responder.result.counts == {(b, a): n for (a, b), n in counts.items()}
    assert run.initiator.result.matches == [] == run.responder.result.matches


def test_released_fields_and_population_arrive_with_each_match() -> None:
    ours = [Item("o1", ("d:acme.com", "n:acme|DE"), "customers", {"name": "Acme"})]
    theirs = [
        Item("t1", ("d:acme.com",), "prospects", {"name": "ACME GmbH", "owner": "Kim"}),
        Item("t2", ("n:acme|DE",), "", {}),
        Item("t3", ("d:other.com",), "customers", {"name": "Other"}),
    ]
    run = run_exchange(ours, theirs)
    got = sorted(
        (m.record_id, m.their_population, sorted(m.their_fields.items()))
        for m in run.initiator.result.matches
    )
    assert got == [("o1", "", []), ("o1", "prospects", [("name", "ACME GmbH"), ("owner", "Kim")])]
    assert sorted(m.record_id for m in run.responder.result.matches) == ["t1", "t2"]
    assert {m.their_fields["name"] for m in run.responder.result.matches} == {"Acme"}


def test_parallel_batches_give_the_same_result_as_one_thread() -> None:
    ours = [Item(f"a{i}", (f"d:s{i}.com",)) for i in range(5000)]
    theirs = [Item(f"b{i}", (f"d:s{i}.com",)) for i in range(2500, 7500)]
    for workers in (1, 2):
        run = run_exchange(ours, theirs, workers=workers)
        assert len(run.initiator.result.matches) == 2500 == len(run.responder.result.matches)


def test_saved_state_resumes_the_exchange() -> None:
    from ecoops.engines.psi import Party, new_session_id

    ours = [Item("a1", ("d:x.com",), "p", {"f": "1"}), Item("a2", ("d:y.com",), "q", {})]
    theirs = [Item("b1", ("d:x.com", "n:x|"), "r", {"g": "2"})]
    for mode in ("reveal", "count"):
        sid = new_session_id()
        a = Party(ours, session_id=sid, role="initiator", mode=mode)  # type: ignore[arg-type]
        b = Party(theirs, session_id=sid, role="responder", mode=mode)  # type: ignore[arg-type]
        m1 = a.step1()
        a = Party.load_state(a.save_state())
        m2 = b.step2(m1)
        b = Party.load_state(b.save_state())
        m3 = a.step3(m2)
        a = Party.load_state(a.save_state())
        m4 = b.step4(m3)
        a.finish(m4)
        assert a.result.counts == {("p", "r"): 1} and b.result.counts == {("r", "p"): 1}
        if mode == "reveal":
            assert [(m.record_id, m.their_fields) for m in a.result.matches] == [("a1", {"g": "2"})]
