"""The exact keys a record offers to private matching, from the account matcher's normalisation."""

from __future__ import annotations

import pyarrow as pa


def item_keys(keyed: pa.Table) -> list[tuple[str, ...]]:
    """Per row of `keyed_accounts(...)`: ("d:<registrable domain>", "n:<name key>|<ISO country>").

    The domain is the alias-resolved one the matcher joins on; a name key is paired with the
    country (the record's own, else its domain's country-code suffix's; empty when neither), so "Acme" in
    Germany and "Acme" in France stay apart.
    """
    domains = keyed.column("domain").to_pylist()
    names = keyed.column("name_key").to_pylist()
    countries = keyed.column("country").to_pylist()
    out: list[tuple[str, ...]] = []
    for domain, name, country in zip(domains, names, countries, strict=True):
        keys = []
        if domain:
            keys.append(f"d:{domain}")
        if name:
            keys.append(f"n:{name}|{country or ''}")
        out.append(tuple(keys))
    return out
