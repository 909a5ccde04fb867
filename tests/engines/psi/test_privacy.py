"""What crosses the wire: no raw keys or ids, fresh secrets, counts-only hides identities, and
fields of records that did not match can never be decrypted."""

from __future__ import annotations

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
        assert not {c for _, c in d1.ciphertexts} & {c for _, c in d2.ciphertexts}


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
    # every key derived from any other element (matched or not) fails to open a released record
    shared = group.blind(group.random_scalar(), run.messages[0][38 : 38 + 3 * 32], workers=1)
    for index, ciphertext in m3.ciphertexts:
        associated = sid + bytes([3]) + index.to_bytes(4, "big")
        for k in range(3):
            wrong = group.item_key(sid, 1, shared[k * 32 : k * 32 + 32])
            with pytest.raises(DecryptionFailed):
                group.open_sealed(wrong, ciphertext, associated)
    # the recipient learns the matched records' fields, never those of records that did not match
    released = {v for m in run.responder.result.matches for v in m.their_fields.values()}
    assert released == {"Acme Corp", "kim@ours.example", "Initech"}
    assert "Globex" not in released
