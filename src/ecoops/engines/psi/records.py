"""Items in, elements out: the keys each record contributes, and the encrypted record payload.

Keys are encoded length-prefixed (u16 + UTF-8), sorted, so a set of keys has one encoding. In
counts-only mode a record contributes one element per non-empty subset of its keys, labelled with
the subset size's parity: summing +1 for odd and -1 for even subsets over the equal elements of two
records gives 1 when they share any key and 0 otherwise (inclusion-exclusion), so the counts are
record pairs matching on any key, without either side learning which record matched.
"""

from __future__ import annotations

import itertools
import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

from ecoops.engines.psi.errors import InvalidItems, MalformedMessage

HANDLE_BYTES = 8
MAX_KEYS_PER_RECORD = 4  # counts-only: 2⁴ - 1 = 15 elements per record at most
_U16 = struct.Struct(">H")


@dataclass(frozen=True)
class Item:
    """One record offered to the exchange: its normalised keys (e.g. "d:acme.com", "n:acme|DE"),
    its population label ("" when the sharing level keeps labels back) and the fields released
    to the partner when it matches (reveal mode only; empty for none)."""

    record_id: str
    keys: tuple[str, ...]
    population: str = ""
    fields: dict[str, str] = field(default_factory=dict)


def _encode_key(key: str) -> bytes:
    raw = key.encode()
    if len(raw) > 0xFFFF:
        raise InvalidItems(f"a key is longer than 65535 bytes: {key[:40]!r}...")
    return _U16.pack(len(raw)) + raw


def encode_keys(keys: Sequence[str]) -> bytes:
    """One encoding per set of keys: sorted, each length-prefixed."""
    return b"".join(_encode_key(k) for k in sorted(keys))


def record_keys(item: Item) -> list[str]:
    return sorted({k for k in item.keys if k})


def reveal_elements(items: Sequence[Item]) -> tuple[list[bytes], list[list[int]]]:
    """One element per distinct key, and the records (indexes into `items`) holding each, in a
    deterministic order (first appearance) that the caller shuffles."""
    holders: dict[str, list[int]] = {}
    for index, item in enumerate(items):
        for key in dict.fromkeys(item.keys):
            if key:
                holders.setdefault(key, []).append(index)
    return [_encode_key(k) for k in holders], list(holders.values())


def count_elements(items: Sequence[Item], populations: Sequence[str]) -> tuple[list[bytes], list[int]]:
    """One element per record and non-empty subset of its keys, with its label (population x 2 + parity)."""
    population_index = {name: i for i, name in enumerate(populations)}
    elements: list[bytes] = []
    labels: list[int] = []
    for item in items:
        keys = record_keys(item)
        if len(keys) > MAX_KEYS_PER_RECORD:
            raise InvalidItems(
                f"record {item.record_id!r} has {len(keys)} keys; counts-only allows {MAX_KEYS_PER_RECORD}"
            )
        base = population_index[item.population] * 2
        for size in range(1, len(keys) + 1):
            for subset in itertools.combinations(keys, size):
                elements.append(encode_keys(subset))
                labels.append(base + size % 2)
    return elements, labels


def secure_permutation(count: int) -> list[int]:
    """A uniformly random order the peer cannot predict (sorting by fresh random 8-byte keys)."""
    noise = os.urandom(count * 8)
    return sorted(range(count), key=lambda i: noise[i * 8 : i * 8 + 8])


def new_handles(count: int) -> list[bytes]:
    """Per-exchange random record handles: let the receiver tell two of our records apart, nothing more."""
    noise = os.urandom(count * HANDLE_BYTES)
    return [noise[i * HANDLE_BYTES : (i + 1) * HANDLE_BYTES] for i in range(count)]


def _string(value: str, what: str) -> bytes:
    raw = value.encode()
    if len(raw) > 0xFFFF:
        raise InvalidItems(f"{what} is longer than 65535 bytes")
    return _U16.pack(len(raw)) + raw


def encode_records(records: Sequence[tuple[bytes, Item]]) -> bytes:
    """The plaintext released for one matched element: each holding record's handle, population, fields."""
    parts = [_U16.pack(len(records))]
    for handle, item in records:
        parts += [handle, _string(item.population, "a population"), _U16.pack(len(item.fields))]
        for name, value in item.fields.items():
            parts += [_string(name, "a field name"), _string(value, f"field {name!r}")]
    return b"".join(parts)


@dataclass(frozen=True)
class Released:
    """A partner record as it arrives: its per-exchange handle, population and released fields."""

    handle: bytes
    population: str
    fields: dict[str, str]


def decode_records(data: bytes) -> list[Released]:
    at = 0

    def take(size: int) -> bytes:
        nonlocal at
        if at + size > len(data):
            raise MalformedMessage("a released record is cut short")
        chunk = data[at : at + size]
        at += size
        return chunk

    def text() -> str:
        try:
            return take(_U16.unpack(take(2))[0]).decode()
        except UnicodeDecodeError:
            raise MalformedMessage("a released field is not UTF-8") from None

    records = []
    for _ in range(_U16.unpack(take(2))[0]):
        handle = take(HANDLE_BYTES)
        population = text()
        fields = {}
        for _ in range(_U16.unpack(take(2))[0]):
            name = text()
            fields[name] = text()
        records.append(Released(handle, population, fields))
    if at != len(data):
        raise MalformedMessage("bytes after the last released record")
    return records
