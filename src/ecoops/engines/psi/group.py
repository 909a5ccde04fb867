"""ristretto255 and the AEAD through the libsodium that `rbcl` bundles, in batches over threads.

Why rbcl: it ships its own libsodium (1.0.18) and exposes the ristretto255 functions; pysodium
needs a system libsodium, PyNaCl has no ristretto255. rbcl loads libsodium with ctypes.CDLL, and
ctypes releases the GIL for the length of each foreign call, so batches of scalar multiplications
run in parallel on threads (measured: 2 threads ≈ 2x one thread on 2 cores, same as 2 processes,
without pickling 32 MB of points). The AEAD (XChaCha20-Poly1305) is not wrapped by rbcl's Python
API, so it is called on the same library handle.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import rbcl
from rbcl import rbcl as _rbcl_module

from ecoops.engines.psi.errors import DecryptionFailed, IdentityElement, InvalidElement

POINT_BYTES = 32
SCALAR_BYTES = 32
TAG_BYTES = 8  # doubly-blinded elements are compared by an 8-byte hash: 1M x 1M ⇒ ~2⁻²⁴ false matches
AEAD_OVERHEAD = 16
_HASH_CONTEXT = b"ecoops-psi-v1|hash-to-group|"
_TAG_PERSON = b"ecoops-psi-v1-tg"
_KEY_PERSON = b"ecoops-psi-v1-ky"
_NONCE = bytes(24)  # every AEAD key encrypts exactly one message (per session, sender and element)
PARALLEL_MIN = 2048  # below this a batch runs on the calling thread

_lib: ctypes.CDLL = _rbcl_module._sodium
_scalarmult = _lib.crypto_scalarmult_ristretto255
_scalarmult.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
_scalarmult.restype = ctypes.c_int
_from_hash = _lib.crypto_core_ristretto255_from_hash
_from_hash.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
_from_hash.restype = ctypes.c_int
_encrypt = _lib.crypto_aead_xchacha20poly1305_ietf_encrypt
_encrypt.argtypes = [
    ctypes.c_char_p, ctypes.POINTER(ctypes.c_ulonglong), ctypes.c_char_p, ctypes.c_ulonglong,
    ctypes.c_char_p, ctypes.c_ulonglong, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p,
]  # fmt: skip
_encrypt.restype = ctypes.c_int
_decrypt = _lib.crypto_aead_xchacha20poly1305_ietf_decrypt
_decrypt.argtypes = [
    ctypes.c_char_p, ctypes.POINTER(ctypes.c_ulonglong), ctypes.c_void_p, ctypes.c_char_p,
    ctypes.c_ulonglong, ctypes.c_char_p, ctypes.c_ulonglong, ctypes.c_char_p, ctypes.c_char_p,
]  # fmt: skip
_decrypt.restype = ctypes.c_int


def random_scalar() -> bytes:
    """A fresh secret exponent, uniform and non-zero."""
    return bytes(rbcl.crypto_core_ristretto255_scalar_random())


def is_valid_point(point: bytes) -> bool:
    return len(point) == POINT_BYTES and bool(rbcl.crypto_core_ristretto255_is_valid_point(point))


def _address(data: bytes) -> int:
    """Where a bytes object's buffer lives (valid while `data` is alive; bytes never move)."""
    address = ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p).value
    assert address is not None
    return address


def _in_parallel(count: int, work: Callable[[int, int], bytes], workers: int) -> bytes:
    """`work(start, stop)` over [0, count) cut into one chunk per worker; the outputs, concatenated."""
    if workers <= 1 or count < PARALLEL_MIN:
        return work(0, count)
    step = -(-count // workers)
    bounds = [(start, min(start + step, count)) for start in range(0, count, step)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return b"".join(pool.map(lambda b: work(*b), bounds))


def default_workers() -> int:
    return os.cpu_count() or 1


def _refuse(points: bytes, index: int) -> InvalidElement:
    element = points[index * POINT_BYTES : (index + 1) * POINT_BYTES]
    if element == bytes(POINT_BYTES) or is_valid_point(element):
        return IdentityElement(f"element {index} is the identity of the group (or blinds to it)")
    return InvalidElement(f"element {index} is not a valid ristretto255 point")


def blind(scalar: bytes, points: bytes, *, workers: int) -> bytes:
    """Each 32-byte point raised to `scalar`; raises `InvalidElement` naming the first bad one.

    libsodium's scalar multiplication decodes (and so validates) its input and fails on an identity
    result, so validation costs nothing beyond the multiplication itself.
    """
    count = len(points) // POINT_BYTES
    source = _address(points)

    def work(start: int, stop: int) -> bytes:
        out = ctypes.create_string_buffer((stop - start) * POINT_BYTES)
        target = ctypes.addressof(out)
        for i in range(start, stop):
            if _scalarmult(target + (i - start) * POINT_BYTES, scalar, source + i * POINT_BYTES):
                raise _refuse(points, i)
        return out.raw

    return _in_parallel(count, work, workers)


def hash_key(session_id: bytes, encoded_key: bytes) -> bytes:
    """The 64-byte domain-separated hash that is mapped to the group: SHA-512(context ‖ session ‖ key)."""
    return hashlib.sha512(_HASH_CONTEXT + session_id + b"|" + encoded_key).digest()


def hash_and_blind(scalar: bytes, session_id: bytes, keys: Sequence[bytes], *, workers: int) -> bytes:
    """H(key)^scalar for each encoded key, concatenated (32 bytes each)."""

    def work(start: int, stop: int) -> bytes:
        out = ctypes.create_string_buffer((stop - start) * POINT_BYTES)
        target = ctypes.addressof(out)
        point = ctypes.create_string_buffer(POINT_BYTES)
        point_address = ctypes.addressof(point)
        for i in range(start, stop):
            _from_hash(point_address, hash_key(session_id, keys[i]))
            if _scalarmult(target + (i - start) * POINT_BYTES, scalar, point_address):
                raise IdentityElement(f"key {i} hashed to the identity")  # probability 2⁻²⁵²
        return out.raw

    return _in_parallel(len(keys), work, workers)


def tags(points: bytes, *, workers: int) -> bytes:
    """The 8-byte comparison tag of each point, concatenated."""

    def work(start: int, stop: int) -> bytes:
        return b"".join(
            hashlib.blake2b(points[i : i + POINT_BYTES], digest_size=TAG_BYTES, person=_TAG_PERSON).digest()
            for i in range(start * POINT_BYTES, stop * POINT_BYTES, POINT_BYTES)
        )

    return _in_parallel(len(points) // POINT_BYTES, work, workers)


def item_key(session_id: bytes, sender: int, shared_point: bytes) -> bytes:
    """The AEAD key for one matched element, from the full H(k)^ab, per session and sending side."""
    return hashlib.blake2b(
        bytes([1, sender]) + shared_point, digest_size=32, key=session_id, person=_KEY_PERSON
    ).digest()


def seal(key: bytes, plaintext: bytes, associated: bytes) -> bytes:
    out = ctypes.create_string_buffer(len(plaintext) + AEAD_OVERHEAD)
    length = ctypes.c_ulonglong()
    rc = _encrypt(
        out, ctypes.byref(length), plaintext, len(plaintext), associated, len(associated), None, _NONCE, key
    )
    assert rc == 0
    return out.raw[: length.value]


def open_sealed(key: bytes, ciphertext: bytes, associated: bytes) -> bytes:
    if len(ciphertext) < AEAD_OVERHEAD:
        raise DecryptionFailed("ciphertext shorter than its authentication tag")
    out = ctypes.create_string_buffer(max(len(ciphertext) - AEAD_OVERHEAD, 1))
    length = ctypes.c_ulonglong()
    rc = _decrypt(
        out, ctypes.byref(length), None, ciphertext, len(ciphertext), associated, len(associated), _NONCE, key
    )
    if rc != 0:
        raise DecryptionFailed("a released record does not decrypt under its matched element's key")
    return out.raw[: length.value]
