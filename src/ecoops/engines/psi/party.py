"""One side of one exchange: the four messages, checked on arrival, and the result they lead to."""

from __future__ import annotations

import json
import struct
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from ecoops.engines.psi import group
from ecoops.engines.psi.errors import MalformedMessage, OversizedBatch, PsiError, UnexpectedStep
from ecoops.engines.psi.records import (
    Item,
    Released,
    count_elements,
    decode_records,
    encode_records,
    new_handles,
    reveal_elements,
    secure_permutation,
)
from ecoops.engines.psi.wire import SESSION_BYTES, Message, decode, encode

Role = Literal["initiator", "responder"]
Mode = Literal["reveal", "count"]
DEFAULT_MAX_ITEMS = 5_000_000
_DONE = 6
_STATE_MAGIC = b"EPSI-STATE-1\n"
# What each message may hold (besides population names and labels in counts-only mode).
_SECTIONS = {
    1: {"elements"},
    2: {"elements", "tags"},
    3: {"tags", "released records"},
    4: {"released records"},
}


@dataclass(frozen=True)
class Match:
    """One of our records and one partner record sharing at least one key (reveal mode)."""

    record_id: str
    their_fields: dict[str, str]
    their_population: str
    their_ref: str  # per-exchange handle of the partner record (hex): tells their records apart


@dataclass
class Result:
    """What this side learnt. `counts`: (our population, their population) → matched record pairs."""

    matches: list[Match] = field(default_factory=list)
    counts: dict[tuple[str, str], int] = field(default_factory=dict)


def _labels(values: Sequence[int]) -> bytes:
    return struct.pack(f">{len(values)}H", *values)


def _unlabel(raw: bytes) -> tuple[int, ...]:
    return struct.unpack(f">{len(raw) // 2}H", raw)


def _permuted(data: bytes, width: int, order: Sequence[int]) -> bytes:
    return b"".join(data[i * width : (i + 1) * width] for i in order)


class Party:
    """One side of one exchange (see the package docstring for the flow). Holds its secret in memory."""

    def __init__(
        self,
        items: Sequence[Item],
        *,
        session_id: bytes,
        role: Role,
        mode: Mode,
        max_items: int = DEFAULT_MAX_ITEMS,
        workers: int | None = None,
    ) -> None:
        if len(session_id) != SESSION_BYTES:
            raise PsiError(f"a session id is {SESSION_BYTES} bytes, not {len(session_id)}")
        if role not in ("initiator", "responder") or mode not in ("reveal", "count"):
            raise PsiError(f"unknown role {role!r} or mode {mode!r}")
        self.items = list(items)
        self.session_id = session_id
        self.role: Role = role
        self.mode: Mode = mode
        self.max_items = max_items
        self.workers = workers or group.default_workers()
        self._secret = group.random_scalar()
        self._next = 1 if role == "initiator" else 2
        self.populations = tuple(sorted({item.population for item in self.items}))
        canonical = self._canonical()
        self._order = secure_permutation(len(canonical[0]))
        self._own = self._reorder(canonical)
        self._their_populations: tuple[str, ...] = ()
        self._shared = b""  # full doubly-blinded elements of the peer's list, in the peer's order
        self._their_tags = b""
        self._their_labels = b""
        self._pairs: list[tuple[int, int]] = []  # (initiator element, responder element) that match
        self._result: Result | None = None
        if len(self._order) > max_items:
            raise OversizedBatch(f"{len(self._order)} elements to send; the limit is {max_items}")

    # -- our elements, in the shuffled order the peer sees -------------------------------------
    def _canonical(self) -> tuple[list[bytes], list[list[int]], list[int]]:
        if self.mode == "reveal":
            elements, holders = reveal_elements(self.items)
            return elements, holders, []
        elements, labels = count_elements(self.items, self.populations)
        return elements, [], labels

    def _reorder(
        self, canonical: tuple[list[bytes], list[list[int]], list[int]]
    ) -> tuple[list[bytes], list[list[int]], list[int]]:
        elements, holders, labels = canonical
        order = self._order
        return (
            [elements[i] for i in order],
            [holders[i] for i in order] if holders else [],
            [labels[i] for i in order] if labels else [],
        )

    @property
    def result(self) -> Result:
        if self._result is None or self._next != _DONE:
            raise UnexpectedStep("the exchange has not finished on this side")
        return self._result

    def _expect(self, step: int) -> None:
        if self._next != step:
            expected = "nothing (finished)" if self._next == _DONE else f"step {self._next}"
            raise UnexpectedStep(f"this {self.role} is at {expected}, not step {step} (replayed?)")

    def _decode(self, data: bytes, step: int) -> Message:
        self._expect(step)
        message = decode(
            data, session_id=self.session_id, step=step - 1, mode=self.mode, max_items=self.max_items
        )
        if self.mode == "count" and message.ciphertexts:
            raise MalformedMessage("a counts-only message carries released records")
        number = step - 1
        carries = {"elements": message.points, "tags": message.tags, "released records": message.ciphertexts}
        for what, present in carries.items():
            if present and what not in _SECTIONS[number]:
                raise MalformedMessage(f"message {number} carries {what}, which it never holds")
        return message

    def _check_labels(self, labels: bytes, populations: Sequence[str], what: str) -> None:
        if labels and max(_unlabel(labels)) // 2 >= len(populations):
            raise MalformedMessage(f"{what} name a population the message does not list")

    def _message(self, step: int, **parts: object) -> bytes:
        message = Message(step=step, mode=self.mode, session_id=self.session_id, **parts)  # type: ignore[arg-type]
        return encode(message)

    # -- the four messages ---------------------------------------------------------------------
    def step1(self) -> bytes:
        """Initiator: H(x)^a for each of our elements, shuffled (with labels in counts-only mode)."""
        self._expect(1)
        elements, _, labels = self._own
        points = group.hash_and_blind(self._secret, self.session_id, elements, workers=self.workers)
        self._next = 3
        if self.mode == "count":
            return self._message(1, populations=self.populations, points=points, point_labels=_labels(labels))
        return self._message(1, points=points)

    def step2(self, msg1: bytes) -> bytes:
        """Responder: the initiator's elements raised to b (as tags), and H(y)^b for ours."""
        message = self._decode(msg1, 2)
        self._check_labels(message.point_labels, message.populations, "element labels")
        self._their_populations = message.populations
        self._shared = group.blind(self._secret, message.points, workers=self.workers)
        tags = group.tags(self._shared, workers=self.workers)
        their_labels = message.point_labels
        if self.mode == "count":  # returned shuffled: the initiator counts but cannot tell which matched
            order = secure_permutation(message.point_count)
            tags, their_labels = _permuted(tags, group.TAG_BYTES, order), _permuted(their_labels, 2, order)
            self._shared = b""
        self._their_tags, self._their_labels = tags, their_labels
        elements, _, labels = self._own
        points = group.hash_and_blind(self._secret, self.session_id, elements, workers=self.workers)
        self._next = 4
        if self.mode == "count":
            return self._message(
                2,
                populations=self.populations,
                points=points,
                point_labels=_labels(labels),
                tags=tags,
                tag_labels=their_labels,
            )
        return self._message(2, points=points, tags=tags)

    def step3(self, msg2: bytes) -> bytes:
        """Initiator: the responder's elements raised to a (as tags); our matched records, encrypted."""
        message = self._decode(msg2, 3)
        if message.tag_count != len(self._order):
            raise MalformedMessage(
                f"message 2 returns {message.tag_count} tags for the {len(self._order)} sent"
            )
        self._check_labels(message.tag_labels, self.populations, "tag labels")
        self._check_labels(message.point_labels, message.populations, "element labels")
        self._their_populations = message.populations
        shared = group.blind(self._secret, message.points, workers=self.workers)
        tags = group.tags(shared, workers=self.workers)
        self._next = 5
        if self.mode == "count":
            self._result = Result(
                counts=_count(
                    message.tags,
                    message.tag_labels,
                    self.populations,
                    tags,
                    message.point_labels,
                    message.populations,
                )
            )
            order = secure_permutation(message.point_count)
            return self._message(
                3,
                tags=_permuted(tags, group.TAG_BYTES, order),
                tag_labels=_permuted(message.point_labels, 2, order),
            )
        self._shared = shared
        self._pairs = _pairs(message.tags, tags)
        _, holders, _ = self._own
        handles = new_handles(len(self.items))
        ciphertexts = [
            self._seal(
                3, i, j, shared[j * 32 : j * 32 + 32], [(handles[r], self.items[r]) for r in holders[i]]
            )
            for i, j in self._pairs
        ]
        return self._message(3, tags=tags, ciphertexts=ciphertexts)

    def step4(self, msg3: bytes) -> bytes:
        """Responder: learn the matches (or counts), release our matched records; this side is done."""
        message = self._decode(msg3, 4)
        if message.tag_count != len(self._order):
            raise MalformedMessage(
                f"message 3 returns {message.tag_count} tags for the {len(self._order)} sent"
            )
        self._check_labels(message.tag_labels, self.populations, "tag labels")
        self._next = _DONE
        if self.mode == "count":
            self._result = Result(
                counts=_count(
                    message.tags,
                    message.tag_labels,
                    self.populations,
                    self._their_tags,
                    self._their_labels,
                    self._their_populations,
                )
            )
            return self._message(4)
        pairs = _pairs(self._their_tags, message.tags)
        _, holders, _ = self._own
        theirs = self._open(3, message.ciphertexts, pairs, [i for i, _ in pairs])
        self._result = _reveal_result(
            self.items, [(holders[j], t) for (_, j), t in zip(pairs, theirs, strict=True)]
        )
        handles = new_handles(len(self.items))
        ciphertexts = [
            self._seal(
                4, i, j, self._shared[i * 32 : i * 32 + 32], [(handles[r], self.items[r]) for r in holders[j]]
            )
            for i, j in pairs
        ]
        self._shared = b""
        return self._message(4, ciphertexts=ciphertexts)

    def finish(self, msg4: bytes) -> None:
        """Initiator: open the responder's released records; this side is done."""
        message = self._decode(msg4, 5)
        self._next = _DONE
        if self.mode == "count":
            return
        _, holders, _ = self._own
        theirs = self._open(4, message.ciphertexts, self._pairs, [j for _, j in self._pairs])
        self._result = _reveal_result(
            self.items, [(holders[i], t) for (i, _), t in zip(self._pairs, theirs, strict=True)]
        )
        self._shared = b""

    # -- state between steps, for the offline CLI (holds the secret: keep the file private) --------
    def save_state(self) -> bytes:
        blobs = (self._shared, self._their_tags, self._their_labels)
        head = {
            "session_id": self.session_id.hex(),
            "secret": self._secret.hex(),
            "role": self.role,
            "mode": self.mode,
            "max_items": self.max_items,
            "next": self._next,
            "order": self._order,
            "their_populations": list(self._their_populations),
            "pairs": self._pairs,
            "counts": [[a, b, n] for (a, b), n in self._result.counts.items()] if self._result else None,
            "items": [[i.record_id, list(i.keys), i.population, i.fields] for i in self.items],
            "blobs": [len(blob) for blob in blobs],
        }
        raw = json.dumps(head, separators=(",", ":")).encode()
        return b"".join([_STATE_MAGIC, struct.pack(">Q", len(raw)), raw, *blobs])

    @classmethod
    def load_state(cls, data: bytes, *, workers: int | None = None) -> Party:
        if not data.startswith(_STATE_MAGIC):
            raise PsiError("not an ecoops PSI state file")
        at = len(_STATE_MAGIC)
        (size,) = struct.unpack_from(">Q", data, at)
        head = json.loads(data[at + 8 : at + 8 + size])
        at += 8 + size
        blobs = []
        for length in head["blobs"]:
            blobs.append(data[at : at + length])
            at += length
        party = cls.__new__(cls)
        party.items = [Item(r, tuple(k), p, f) for r, k, p, f in head["items"]]
        party.session_id = bytes.fromhex(head["session_id"])
        party.role, party.mode, party.max_items = head["role"], head["mode"], head["max_items"]
        party.workers = workers or group.default_workers()
        party._secret = bytes.fromhex(head["secret"])
        party._next = head["next"]
        party.populations = tuple(sorted({item.population for item in party.items}))
        party._order = head["order"]
        party._own = party._reorder(party._canonical())
        party._their_populations = tuple(head["their_populations"])
        party._shared, party._their_tags, party._their_labels = blobs
        party._pairs = [(i, j) for i, j in head["pairs"]]
        counts = head["counts"]
        party._result = None if counts is None else Result(counts={(a, b): n for a, b, n in counts})
        return party

    # -- released records ----------------------------------------------------------------------
    def _associated(self, step: int, i: int, j: int) -> bytes:
        """Binds a released record to its exchange, its message and its matched pair of elements."""
        return self.session_id + struct.pack(">BII", step, i, j)

    def _seal(
        self, step: int, i: int, j: int, shared_point: bytes, records: list[tuple[bytes, Item]]
    ) -> bytes:
        key = group.item_key(self.session_id, step % 2, shared_point)
        return group.seal(key, encode_records(records), self._associated(step, i, j))

    def _open(
        self, step: int, ciphertexts: list[bytes], pairs: list[tuple[int, int]], shared_index: list[int]
    ) -> list[list[Released]]:
        """Decrypt the released records, one ciphertext per matched pair, in the pairs' order."""
        if len(ciphertexts) != len(pairs):
            raise MalformedMessage(
                f"message {step} releases {len(ciphertexts)} records for {len(pairs)} matched elements"
            )
        opened = []
        for (i, j), k, ciphertext in zip(pairs, shared_index, ciphertexts, strict=True):
            key = group.item_key(self.session_id, step % 2, self._shared[k * 32 : k * 32 + 32])
            opened.append(decode_records(group.open_sealed(key, ciphertext, self._associated(step, i, j))))
        return opened


def _pairs(initiator_tags: bytes, responder_tags: bytes) -> list[tuple[int, int]]:
    """(i, j) for each initiator element i and responder element j whose doubly-blinded tags agree."""
    width = group.TAG_BYTES
    where = {responder_tags[j : j + width]: j // width for j in range(0, len(responder_tags), width)}
    return [
        (i // width, where[tag])
        for i in range(0, len(initiator_tags), width)
        if (tag := initiator_tags[i : i + width]) in where
    ]


def _count(
    my_tags: bytes,
    my_labels: bytes,
    my_populations: Sequence[str],
    their_tags: bytes,
    their_labels: bytes,
    their_populations: Sequence[str],
) -> dict[tuple[str, str], int]:
    """Record pairs matching on any key per population pair: the signed sum over equal subset elements."""
    width = group.TAG_BYTES
    theirs: dict[bytes, Counter[int]] = {}
    for k, label in enumerate(_unlabel(their_labels)):
        theirs.setdefault(their_tags[k * width : (k + 1) * width], Counter())[label // 2] += 1
    counts: Counter[tuple[str, str]] = Counter()
    for k, label in enumerate(_unlabel(my_labels)):
        found = theirs.get(my_tags[k * width : (k + 1) * width])
        if found:
            sign = 1 if label % 2 else -1  # odd-sized key subsets add, even-sized ones subtract
            for population, n in found.items():
                counts[(my_populations[label // 2], their_populations[population])] += sign * n
    return {pair: n for pair, n in sorted(counts.items()) if n}


def _reveal_result(items: Sequence[Item], matched: list[tuple[list[int], list[Released]]]) -> Result:
    """One match per (our record, their record) sharing any key, however many keys they share."""
    seen: set[tuple[int, bytes]] = set()
    result = Result()
    counts: Counter[tuple[str, str]] = Counter()
    for ours, theirs in matched:
        for r in ours:
            for record in theirs:
                if (r, record.handle) not in seen:
                    seen.add((r, record.handle))
                    item = items[r]
                    result.matches.append(
                        Match(item.record_id, record.fields, record.population, record.handle.hex())
                    )
                    counts[(item.population, record.population)] += 1
    result.counts = dict(sorted(counts.items()))
    return result
