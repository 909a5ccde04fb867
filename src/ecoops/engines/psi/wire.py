"""The message framing: a fixed header, then fixed-size sections whose sizes the header gives.

    magic "EPSI" | version u8 | step u8 | mode u8 | sender u8 | session id 16 bytes
    | populations u16 | points u32 | tags u32 | ciphertexts u32                      (38 bytes, big-endian)
    populations  x (u16 length, UTF-8)           population names (counts-only mode)
    points       x 32 bytes                      blinded group elements
    point labels x u16   (counts-only mode)      population index x 2 + parity of the key subset
    tags         x 8 bytes                       hashes of doubly-blinded elements
    tag labels   x u16   (counts-only mode)
    ciphertexts  x (u32 length, bytes)           released records, one per matched pair, in the
                                                 order of the initiator's elements (reveal mode)

A message must be exactly as long as its header says; anything else is refused before any work.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field

from ecoops.engines.psi.errors import (
    MalformedMessage,
    OversizedBatch,
    SessionMismatch,
    UnexpectedStep,
    UnsupportedVersion,
)
from ecoops.engines.psi.group import AEAD_OVERHEAD, POINT_BYTES, TAG_BYTES

MAGIC = b"EPSI"
VERSION = 1
SESSION_BYTES = 16
MODES = ("reveal", "count")
ROLES = ("initiator", "responder")
LABEL_BYTES = 2
_HEADER = struct.Struct(">4sBBBB16sHIII")
HEADER_BYTES = _HEADER.size
_CIPHERTEXT_HEAD = struct.Struct(">I")
MAX_CIPHERTEXT = 1 << 24


@dataclass
class Message:
    """One decoded message. Labels are raw big-endian u16 arrays (one per point / tag)."""

    step: int
    mode: str
    session_id: bytes
    populations: tuple[str, ...] = ()
    points: bytes = b""
    point_labels: bytes = b""
    tags: bytes = b""
    tag_labels: bytes = b""
    ciphertexts: list[bytes] = field(default_factory=list)

    @property
    def sender(self) -> str:
        return ROLES[(self.step - 1) % 2]

    @property
    def point_count(self) -> int:
        return len(self.points) // POINT_BYTES

    @property
    def tag_count(self) -> int:
        return len(self.tags) // TAG_BYTES


def encode(message: Message) -> bytes:
    parts = [
        _HEADER.pack(
            MAGIC,
            VERSION,
            message.step,
            MODES.index(message.mode),
            ROLES.index(message.sender),
            message.session_id,
            len(message.populations),
            message.point_count,
            message.tag_count,
            len(message.ciphertexts),
        )
    ]
    for name in message.populations:
        raw = name.encode()
        parts.append(struct.pack(">H", len(raw)) + raw)
    parts += [message.points, message.point_labels, message.tags, message.tag_labels]
    for ciphertext in message.ciphertexts:
        parts.append(_CIPHERTEXT_HEAD.pack(len(ciphertext)) + ciphertext)
    return b"".join(parts)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def take(self, size: int, what: str) -> bytes:
        if self.at + size > len(self.data):
            raise MalformedMessage(
                f"message ends early: {what} needs {size} bytes at offset {self.at}, "
                f"{len(self.data) - self.at} left"
            )
        chunk = self.data[self.at : self.at + size]
        self.at += size
        return chunk


def decode(
    data: bytes, *, session_id: bytes, step: int, mode: str, max_items: int, max_populations: int = 32767
) -> Message:
    """Parse and check one message against what this party expects (session, step, mode, limits)."""
    if len(data) < HEADER_BYTES:
        raise MalformedMessage(f"message is {len(data)} bytes, shorter than the {HEADER_BYTES}-byte header")
    magic, version, got_step, mode_index, sender, session, n_pop, n_points, n_tags, n_ct = (
        _HEADER.unpack_from(data)
    )
    if magic != MAGIC:
        raise MalformedMessage("not an ecoops PSI message (bad magic bytes)")
    if version != VERSION:
        raise UnsupportedVersion(f"message is protocol version {version}; this side speaks {VERSION}")
    if session != session_id:
        raise SessionMismatch(
            f"message is for session {session.hex()}, not this exchange ({session_id.hex()})"
        )
    if mode_index >= len(MODES) or MODES[mode_index] != mode:
        got = MODES[mode_index] if mode_index < len(MODES) else f"unknown mode {mode_index}"
        raise SessionMismatch(f"message is for mode {got!r}; this exchange runs {mode!r}")
    if got_step != step:
        raise UnexpectedStep(f"expected message {step}, got message {got_step} (replayed or out of order)")
    if sender != (step - 1) % 2:
        raise UnexpectedStep(f"message {step} must come from the {ROLES[(step - 1) % 2]}")
    for count, what in ((n_points, "elements"), (n_tags, "tags"), (n_ct, "ciphertexts")):
        if count > max_items:
            raise OversizedBatch(f"message holds {count} {what}; the limit is {max_items}")
    if n_pop > max_populations:
        raise OversizedBatch(f"message names {n_pop} populations; the limit is {max_populations}")
    labelled = mode == "count"
    reader = _Reader(data)
    reader.at = HEADER_BYTES
    populations = []
    for _ in range(n_pop):
        (length,) = struct.unpack(">H", reader.take(2, "a population name length"))
        try:
            populations.append(reader.take(length, "a population name").decode())
        except UnicodeDecodeError:
            raise MalformedMessage("a population name is not UTF-8") from None
    message = Message(step=step, mode=mode, session_id=session_id, populations=tuple(populations))
    message.points = reader.take(n_points * POINT_BYTES, f"{n_points} elements")
    message.point_labels = reader.take(n_points * LABEL_BYTES if labelled else 0, "element labels")
    message.tags = reader.take(n_tags * TAG_BYTES, f"{n_tags} tags")
    message.tag_labels = reader.take(n_tags * LABEL_BYTES if labelled else 0, "tag labels")
    for _ in range(n_ct):
        (length,) = _CIPHERTEXT_HEAD.unpack(reader.take(_CIPHERTEXT_HEAD.size, "a ciphertext header"))
        if not AEAD_OVERHEAD <= length <= MAX_CIPHERTEXT:
            raise MalformedMessage(
                f"a ciphertext of {length} bytes (allowed {AEAD_OVERHEAD}-{MAX_CIPHERTEXT})"
            )
        message.ciphertexts.append(reader.take(length, "a ciphertext"))
    if reader.at != len(data):
        raise MalformedMessage(f"{len(data) - reader.at} bytes after the end the header announces")
    return message


def new_session_id() -> bytes:
    """A fresh random session id (the initiator makes one per exchange and tells the responder)."""
    return os.urandom(SESSION_BYTES)


def peek(data: bytes) -> tuple[bytes, int, str]:
    """(session id, message number, mode) of a message, checking only its header: how a responder
    learns which exchange a first message opens before it creates its Party."""
    if len(data) < HEADER_BYTES or data[:4] != MAGIC:
        raise MalformedMessage("not an ecoops PSI message (too short or bad magic bytes)")
    _, version, step, mode_index, _, session = _HEADER.unpack_from(data)[:6]
    if version != VERSION:
        raise UnsupportedVersion(f"message is protocol version {version}; this side speaks {VERSION}")
    if mode_index >= len(MODES):
        raise MalformedMessage(f"unknown mode {mode_index}")
    return session, step, MODES[mode_index]
