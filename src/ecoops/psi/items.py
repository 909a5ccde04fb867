"""What of ours enters an exchange with one partner, and how, decided by the sharing rules.

- A population the partner may not see (hidden) never enters.
- Count mode: every account in a population the partner may see, once, with all its keys and the
  names of those populations as its label (the partner learns counts per population pair).
- Reveal mode: only accounts in a population whose level lets the partner see overlapping accounts
  (`overlapping` or `all`; a private exchange only ever shows overlapping ones). One item per key
  kind, so each side learns whether the domain or the name + country matched. What is released (the
  names of those populations, a pseudonymous id and the fields their rules allow) travels encrypted,
  so that only a matching record's can be opened.

Keys are the normalised keys account mapping derives (engines/matching/accounts.py, after the
workspace's domain aliases, as a mapping run joins on them), written as the
offline `ecoops psi` commands write them (engines/psi `item_keys`): "d:<registrable domain>" and
"n:<normalised name>|<ISO country>", so an instance and a partner using files agree.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import defaultdict
from dataclasses import dataclass

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.crm.models import Account
from ecoops.engines.matching.accounts import keyed_accounts
from ecoops.engines.psi import Item, item_keys
from ecoops.mapping import company_links
from ecoops.mapping.models import SharingLevel
from ecoops.mapping.populations import memberships, population_names
from ecoops.mapping.sharing import SHAREABLE_FIELDS, rules_for

LABEL_SEPARATOR = "\x1f"  # between population names in one label
ID_SEPARATOR = "\x1f"  # between our crm_id and the key kind in a reveal item's record id
KEY_KINDS = {"d": "domain", "n": "name_country"}
REVEAL_LEVELS = (SharingLevel.OVERLAPPING, SharingLevel.ALL)


@dataclass(frozen=True)
class OurSide:
    """Our items for one mode, and the population names → keys to read results back."""

    items: list[Item]
    population_keys: dict[str, str]


def pseudonym(ref_key: str, crm_id: str) -> str:
    """The stable id the partner knows one of our released accounts by (never our CRM id)."""
    return hmac.new(bytes.fromhex(ref_key), crm_id.encode(), hashlib.sha256).hexdigest()[:24]


def split_label(label: str) -> list[str]:
    return [part for part in label.split(LABEL_SEPARATOR) if part]


def account_keys(session: Session) -> dict[str, dict[str, str]]:
    """crm_id → key kind prefix ("d", "n") → normalised key, for accounts with at least one key."""
    rows = session.execute(
        select(Account.crm_id, Account.name, Account.website, Account.domain, Account.country).order_by(
            Account.crm_id
        )
    ).all()
    names = ("id", "name", "website", "domain", "country")
    columns = list(zip(*rows, strict=True)) or [() for _ in names]
    table = pa.table(
        {n: pa.array([str(v or "") for v in c], pa.string()) for n, c in zip(names, columns, strict=True)}
    )
    aliases, _ = company_links.engine_overrides(session)  # the domains a mapping run joins on
    keyed = keyed_accounts(table, side="our", domain_aliases=aliases)
    found: dict[str, dict[str, str]] = {}
    for crm_id, keys in zip(keyed.column("id").to_pylist(), item_keys(keyed), strict=True):
        if keys:
            found[crm_id] = {key[0]: key for key in keys}
    return found


def our_side(session: Session, partner_id: int, ref_key: str, mode: str) -> OurSide:
    """Our items for an exchange with the partner in `mode` ("count" or "reveal")."""
    rules = rules_for(session, partner_id)
    names = {key: name.replace(LABEL_SEPARATOR, " ") for key, name in population_names(session).items()}
    levels = (
        REVEAL_LEVELS
        if mode == "reveal"
        else (SharingLevel.COUNTS, SharingLevel.OVERLAPPING, SharingLevel.ALL)
    )
    entering = {key for key, rule in rules.items() if rule.level in levels and key in names}
    populations_of: dict[str, list[str]] = defaultdict(list)
    for key, members in memberships(session).items():
        if key in entering:
            for crm_id in members:
                populations_of[crm_id].append(key)
    keys = account_keys(session)
    items: list[Item] = []
    fields_of = _released_fields(session, partner_id, populations_of) if mode == "reveal" else {}
    for crm_id in sorted(populations_of.keys() & keys.keys()):
        label = LABEL_SEPARATOR.join(names[key] for key in sorted(populations_of[crm_id]))
        if mode == "count":
            items.append(Item(crm_id, tuple(keys[crm_id].values()), label, {}))
            continue
        released = {"ref": pseudonym(ref_key, crm_id)} | fields_of[crm_id]
        for kind, key in keys[crm_id].items():
            items.append(Item(f"{crm_id}{ID_SEPARATOR}{kind}", (key,), label, released))
    return OurSide(items, {name: key for key, name in names.items()})


def _released_fields(
    session: Session, partner_id: int, populations_of: dict[str, list[str]]
) -> dict[str, dict[str, str]]:
    """crm_id → the fields any of its revealed populations' rules allow, with their values."""
    rules = rules_for(session, partner_id)
    columns = [getattr(Account, f) for f in SHAREABLE_FIELDS]
    released: dict[str, dict[str, str]] = {}
    for crm_id, *values in session.execute(select(Account.crm_id, *columns)):
        if crm_id not in populations_of:
            continue
        allowed = {f for key in populations_of[crm_id] for f in rules[key].fields}
        released[crm_id] = {
            f: str(v) for f, v in zip(SHAREABLE_FIELDS, values, strict=True) if f in allowed and v
        }
    return released
