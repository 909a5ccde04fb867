"""Private set intersection between two parties: EC Diffie-Hellman over ristretto255 (libsodium via rbcl).

Pure: bytes in, bytes out, no ORM, no HTTP. docs/private-mapping.md ("Protocol") explains what each
side learns and why it is built this way.

API (what the exchange between instances and the offline `ecoops psi` CLI use)::

    from ecoops.engines.psi import Item, Party, PsiError, new_session_id

    items = [Item(record_id="0012", keys=("d:acme.com", "n:acme|DE"), population="customers",
                  fields={"name": "Acme GmbH"})]        # fields: what the sharing level releases
    sid = new_session_id()                              # 16 random bytes, agreed by both sides
    a = Party(items_a, session_id=sid, role="initiator", mode="reveal")   # or mode="count"
    b = Party(items_b, session_id=sid, role="responder", mode="reveal")
    msg1 = a.step1()        # A -> B   H(x)^a for A's keys, shuffled
    msg2 = b.step2(msg1)    # B -> A   tags of H(x)^ab (A's order), H(y)^b for B's keys
    msg3 = a.step3(msg2)    # A -> B   tags of H(y)^ab (B's order), A's matched records encrypted
    msg4 = b.step4(msg3)    # B -> A   B's matched records encrypted; B's result is ready
    a.finish(msg4)          #          A's result is ready
    a.result.matches        # [Match(record_id=ours, their_fields, their_population, their_ref)]
    a.result.counts         # {(our population, their population): matched record pairs}
    session_id, step, mode = peek(msg1)   # header only: how a responder learns the session and mode

- Items: each record's normalised keys (``"d:<registrable domain>"``, ``"n:<name key>|<CC>"``, see
  `item_keys`); a record matches a partner record when any key is equal. `population` is the
  label the partner may see ("" to withhold it); hidden populations must simply not be passed.
- mode="reveal": each side learns which of its records match and, for each, the partner records'
  released `fields` and population, decrypted with a key derived from that key's H(k)^ab: records
  that do not match are never sent. mode="count": elements go back shuffled, each side learns
  only `counts` (record pairs per population pair) and `matches` stays empty.
- Every incoming message is checked before any work: a `PsiError` subclass names what is wrong
  (MalformedMessage, UnsupportedVersion, SessionMismatch, UnexpectedStep, OversizedBatch,
  InvalidElement / IdentityElement, DecryptionFailed). A Party runs one exchange once: replaying a
  message, or a message from another session or mode, is refused.
- The secret exponent is fresh per Party and lives in memory; `Party.save_state()` /
  `Party.load_state()` write it out for the offline CLI only (the file is secret).
- `EXACT_KEY_RECALL`: the measured recall cost of exact keys against the fuzzy matcher
  (`.sentence()` for the UI), with the command that reproduces it.
- Batches of scalar multiplications run on `workers` threads (default: the CPU count); libsodium
  is called through ctypes, which releases the GIL.
"""

from ecoops.engines.psi.errors import (
    DecryptionFailed,
    IdentityElement,
    InvalidElement,
    InvalidItems,
    MalformedMessage,
    OversizedBatch,
    PsiError,
    SessionMismatch,
    UnexpectedStep,
    UnsupportedVersion,
)
from ecoops.engines.psi.keys import item_keys
from ecoops.engines.psi.party import DEFAULT_MAX_ITEMS, Match, Party, Result
from ecoops.engines.psi.recall import EXACT_KEY_RECALL, RecallCost
from ecoops.engines.psi.records import Item
from ecoops.engines.psi.wire import new_session_id, peek

__all__ = [
    "DEFAULT_MAX_ITEMS",
    "EXACT_KEY_RECALL",
    "DecryptionFailed",
    "IdentityElement",
    "InvalidElement",
    "InvalidItems",
    "Item",
    "MalformedMessage",
    "Match",
    "OversizedBatch",
    "Party",
    "PsiError",
    "RecallCost",
    "Result",
    "SessionMismatch",
    "UnexpectedStep",
    "UnsupportedVersion",
    "item_keys",
    "new_session_id",
    "peek",
]
