"""What can go wrong in a PSI exchange: one `PsiError` subclass per reason, each message naming it."""

from __future__ import annotations


class PsiError(ValueError):
    """Base class: the exchange cannot go on; the message says why."""


class MalformedMessage(PsiError):
    """The bytes are not a message of this protocol: bad magic, wrong length, counts inconsistent."""


class UnsupportedVersion(PsiError):
    """The peer speaks another protocol version."""


class SessionMismatch(PsiError):
    """The message belongs to another exchange (session id) or another mode."""


class UnexpectedStep(PsiError):
    """The message is not the next one this party expects: replayed, out of order, or from the wrong side."""


class OversizedBatch(PsiError):
    """The message (or our own input) holds more elements than the configured limit."""


class InvalidElement(PsiError):
    """A 32-byte element is not the encoding of a ristretto255 group element."""


class IdentityElement(InvalidElement):
    """An element is (or blinds to) the identity, which would reveal nothing to compare and is refused."""


class DecryptionFailed(PsiError):
    """A released record's ciphertext does not open under the key derived from its matched element."""


class InvalidItems(PsiError):
    """Our own input cannot be exchanged (too many keys on a record, a field too long, …)."""
