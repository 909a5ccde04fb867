"""What crosses the wire: no raw keys or ids, fresh secrets, counts-only hides identities, and
fields of records that did not match can never be decrypted."""

from __future__ import annotations

import struct

import pytest

from ecoops.engines.psi import DecryptionFailed, Item, group
from ecoops.engines.psi.wire import Message, decode
from tests.engines.psi.exchange import run_exchange

OURS = [
    Item(
        "acct-0001",
        ("d:acme.com", "n:acme|DE"),
        "customers",
        {"name": "Acme Corp", "owner": "kim@ours.example"},
    ),
    Item("acct-0002", ("d:globex.com",), "prospects", {"name": "Globex"}),
    Item("acct-0003", ("n:initech|US",), "customers", {"name": "Initech"}),
]
THEIRS = [
    Item("crm-77", ("d:acme.com",), "open deals", {"name": "ACME GmbH", "stage": "Negotiation"}),
    Item("crm-78", ("d:hooli.com", "n:hooli|US"), "customers", {"name": "Hooli"}),
    Item("crm-79", ("n:initech|US",), "customers", {"name": "Initech LLC"}),
]


def secrets_of(items: list[Item]) -> set[bytes]:
    words = set()
    for item in items:
        words.add(item.record_id.encode())
        for key in item.keys:
            words |= {key.encode(), key[2:].encode(), key[2:].split("|")[0].encode()}
        words |= {v.encode() for v in item.fields.values()} | {item.population.encode()}
    return {w for w in words if len(w) >= 4}


def chunks(message: Message) -> set[bytes]:
    """Every group element and tag of a message."""
    points = {message.points[i : i + 32] for i in range(0, len(message.points), 32)}
    return points | {message.tags[i : i + 8] for i in range(0, len(message.tags), 8)}


@pytest.mark.parametrize("mode", ["reveal", "count"])
def test_no_message_contains_a_key_a_record_id_or_a_field(mode: str) -> None:
    run = run_exchange(OURS, THEIRS, mode)
    for message in run.messages:
        for word in secrets_of(OURS) | secrets_of(THEIRS):
            if mode == "count" and word in {b"customers", b"prospects", b"open deals"}:
                continue  # counts-only sends population labels in the clear, by design
            assert word not in message, f"{word!r} crossed the wire"


def test_counts_only_reveals_no_identity_in_any_result_or_message() -> None:
    run = run_exchange(OURS, THEIRS, "count")
    assert run.initiator.result.matches == [] == run.responder.result.matches
    assert run.initiator.result.counts == {("customers", "customers"): 1, ("customers", "open deals"): 1}
    for step, message in enumerate(run.messages, 1):
        decoded = decode(message, session_id=run.initiator.session_id, step=step, mode="count", max_items=99)
        assert decoded.ciphertexts == []


def test_two_exchanges_of_the_same_data_share_no_element() -> None:
    first, second = run_exchange(OURS, THEIRS), run_exchange(OURS, THEIRS)
    for step, (one, two) in enumerate(zip(first.messages, second.messages, strict=True), 1):
        assert one != two
        d1 = decode(one, session_id=first.initiator.session_id, step=step, mode="reveal", max_items=99)
        d2 = decode(two, session_id=second.initiator.session_id, step=step, mode="reveal", max_items=99)
        assert not chunks(d1) & chunks(d2)
        assert not set(d1.ciphertexts) & set(d2.ciphertexts)


def test_the_same_session_id_with_fresh_secrets_still_gives_unrelated_elements() -> None:
    from ecoops.engines.psi import Party, new_session_id

    sid = new_session_id()
    one = Party(OURS, session_id=sid, role="initiator", mode="reveal").step1()
    two = Party(OURS, session_id=sid, role="initiator", mode="reveal").step1()
    points = lambda m: {m[i : i + 32] for i in range(38, len(m), 32)}  # noqa: E731
    assert not points(one) & points(two)


def test_only_matched_records_are_released_and_only_their_key_opens_them() -> None:
    run = run_exchange(OURS, THEIRS)
    sid = run.initiator.session_id
    m3 = decode(run.messages[2], session_id=sid, step=3, mode="reveal", max_items=99)
    m4 = decode(run.messages[3], session_id=sid, step=4, mode="reveal", max_items=99)
    # acme.com and initech|US match; acme|DE, globex.com, hooli.com do not: 2 released per side
    assert len(m3.ciphertexts) == 2 == len(m4.ciphertexts)
    # a released record opens only under its own element's key: not under the other match's key,
    # nor under a key from any element that did not match
    pairs = run.initiator._pairs
    m2 = decode(run.messages[1], session_id=sid, step=2, mode="reveal", max_items=99)
    shared = group.blind(run.initiator._secret, m2.points, workers=1)  # H(y)^ab of the responder's elements
    unmatched = group.blind(group.random_scalar(), run.messages[0][38 : 38 + 3 * 32], workers=1)
    for k, ((i, j), ciphertext) in enumerate(zip(pairs, m3.ciphertexts, strict=True)):
        associated = sid + struct.pack(">BII", 3, i, j)
        own = group.item_key(sid, 1, shared[j * 32 : j * 32 + 32])
        assert group.open_sealed(own, ciphertext, associated)
        other_j = pairs[1 - k][1]
        wrong = [group.item_key(sid, 1, shared[other_j * 32 : other_j * 32 + 32])]
        wrong += [group.item_key(sid, 1, unmatched[n * 32 : n * 32 + 32]) for n in range(3)]
        for key in wrong:
            with pytest.raises(DecryptionFailed):
                group.open_sealed(key, ciphertext, associated)
    # the recipient learns the matched records' fields, never those of records that did not match
    released = {v for m in run.responder.result.matches for v in m.their_fields.values()}
    assert released == {"Acme Corp", "kim@ours.example", "Initech"}
    assert "Globex" not in released
