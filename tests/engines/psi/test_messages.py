"""Every malformed or misplaced message is refused with the error that names what is wrong."""

from __future__ import annotations

import struct

import pytest

from ecoops.engines.psi import (
    DecryptionFailed,
    IdentityElement,
    InvalidElement,
    Item,
    MalformedMessage,
    OversizedBatch,
    Party,
    SessionMismatch,
    UnexpectedStep,
    UnsupportedVersion,
    new_session_id,
)
from ecoops.engines.psi.wire import HEADER_BYTES, decode, encode

OURS = [Item("a1", ("d:acme.com", "n:acme|DE"), "customers", {"name": "Acme"}), Item("a2", ("d:b.com",))]
THEIRS = [Item("b1", ("d:acme.com",), "prospects", {"name": "ACME"}), Item("b2", ("d:z.com",))]


def parties(mode: str = "reveal", **options: object) -> tuple[Party, Party]:
    sid = new_session_id()
    return (
        Party(OURS, session_id=sid, role="initiator", mode=mode, **options),  # type: ignore[arg-type]
        Party(THEIRS, session_id=sid, role="responder", mode=mode, **options),  # type: ignore[arg-type]
    )


def patched(message: bytes, offset: int, data: bytes) -> bytes:
    return message[:offset] + data + message[offset + len(data) :]


def reframed(message: bytes, party: Party, step: int, **changes: object) -> bytes:
    """The message decoded, changed and encoded again: consistent framing, wrong content."""
    decoded = decode(message, session_id=party.session_id, step=step, mode=party.mode, max_items=10**6)
    for name, value in changes.items():
        setattr(decoded, name, value)
    return encode(decoded)


@pytest.mark.parametrize(
    ("corrupt", "error", "words"),
    [
        (lambda m: m[:10], MalformedMessage, "shorter than"),
        (lambda m: m[:-1], MalformedMessage, "ends early"),
        (lambda m: m + b"\0", MalformedMessage, "after the end"),
        (lambda m: b"XPSI" + m[4:], MalformedMessage, "magic"),
        (lambda m: patched(m, 4, b"\x02"), UnsupportedVersion, "version 2"),
        (lambda m: patched(m, 8, bytes(16)), SessionMismatch, "session"),
        (lambda m: patched(m, 6, b"\x01"), SessionMismatch, "mode"),
        (lambda m: patched(m, 5, b"\x03"), UnexpectedStep, "expected message 1, got message 3"),
        (lambda m: patched(m, 7, b"\x01"), UnexpectedStep, "from the initiator"),
        (lambda m: patched(m, HEADER_BYTES, b"\xff" * 32), InvalidElement, "not a valid ristretto255 point"),
        (lambda m: patched(m, HEADER_BYTES + 32, bytes(32)), IdentityElement, "identity"),
        (lambda m: patched(m, 26, struct.pack(">I", 1000)), MalformedMessage, "ends early"),
    ],
)
def test_a_corrupted_first_message_is_refused(corrupt, error, words) -> None:  # type: ignore[no-untyped-def]
    a, b = parties()
    with pytest.raises(error, match=words):
        b.step2(corrupt(a.step1()))


def test_an_oversized_batch_is_refused_from_its_header() -> None:
    a, _ = parties()
    sid = a.session_id
    b = Party(THEIRS, session_id=sid, role="responder", mode="reveal", max_items=2)
    with pytest.raises(OversizedBatch, match="3 elements; the limit is 2"):
        b.step2(a.step1())
    with pytest.raises(OversizedBatch, match="the limit is 1"):
        Party(OURS, session_id=sid, role="initiator", mode="reveal", max_items=1)


def test_replayed_and_out_of_order_messages_are_refused() -> None:
    a, b = parties()
    m1 = a.step1()
    with pytest.raises(UnexpectedStep):
        a.step1()
    m2 = b.step2(m1)
    with pytest.raises(UnexpectedStep, match="replayed"):
        b.step2(m1)
    with pytest.raises(UnexpectedStep, match="expected message 3, got message 1"):
        b.step4(m1)
    m3 = a.step3(m2)
    m4 = b.step4(m3)
    a.finish(m4)
    with pytest.raises(UnexpectedStep, match="finished"):
        a.finish(m4)
    # a message of another exchange, even a well-formed one, is refused
    other_a, _ = parties()
    _, fresh_b = parties()
    with pytest.raises(SessionMismatch):
        fresh_b.step2(other_a.step1())


def test_a_result_before_the_end_is_refused() -> None:
    a, _ = parties()
    with pytest.raises(UnexpectedStep, match="not finished"):
        _ = a.result


def test_counts_inconsistent_with_what_was_sent_are_refused() -> None:
    a, b = parties()
    m2 = b.step2(a.step1())
    with pytest.raises(MalformedMessage, match="returns 2 tags for the 3 sent"):
        a.step3(
            reframed(
                m2,
                a,
                2,
                tags=decode(m2, session_id=a.session_id, step=2, mode="reveal", max_items=9).tags[:16],
            )
        )


def test_a_label_naming_an_unlisted_population_is_refused() -> None:
    a, b = parties("count")
    m1 = a.step1()
    decoded = decode(m1, session_id=a.session_id, step=1, mode="count", max_items=99)
    bad = struct.pack(">H", 99) + decoded.point_labels[2:]
    with pytest.raises(MalformedMessage, match="population the message does not list"):
        b.step2(reframed(m1, a, 1, point_labels=bad))


def test_released_records_must_decrypt_and_be_one_per_match() -> None:
    a, b = parties()
    m3 = a.step3(b.step2(a.step1()))
    [ciphertext] = decode(m3, session_id=a.session_id, step=3, mode="reveal", max_items=99).ciphertexts
    with pytest.raises(DecryptionFailed):
        b.step4(reframed(m3, a, 3, ciphertexts=[ciphertext[:-1] + bytes([ciphertext[-1] ^ 1])]))
    a, b = parties()
    m3 = a.step3(b.step2(a.step1()))
    [ciphertext] = decode(m3, session_id=a.session_id, step=3, mode="reveal", max_items=99).ciphertexts
    with pytest.raises(MalformedMessage, match="releases 2 records for 1 matched elements"):
        b.step4(reframed(m3, a, 3, ciphertexts=[ciphertext, ciphertext]))


def test_a_section_a_message_never_holds_is_refused() -> None:
    a, b = parties()
    m1 = a.step1()
    with pytest.raises(MalformedMessage, match="message 1 carries tags"):
        b.step2(reframed(m1, a, 1, tags=bytes(24)))
    m2 = b.step2(m1)
    with pytest.raises(MalformedMessage, match="message 2 carries released records"):
        a.step3(reframed(m2, a, 2, ciphertexts=[bytes(20)]))


def test_a_counts_only_message_carrying_records_is_refused() -> None:
    a, b = parties("count")
    m3 = a.step3(b.step2(a.step1()))
    with pytest.raises(MalformedMessage, match="counts-only"):
        b.step4(reframed(m3, a, 3, ciphertexts=[bytes(40)]))
