"""Accounts as the matcher sees them: the input columns it reads and the keys it derives from them."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ecoops.engines.matching.countries import country_codes
from ecoops.engines.matching.domains import domain_label, registrable_domains
from ecoops.engines.matching.names import name_keys

ID_COLUMN = "id"
NAME_COLUMN = "name"
# Where a registrable domain may come from, in order of preference: a record's own domain field,
# its website, then an e-mail address (the first one that yields a usable domain wins).
DOMAIN_COLUMNS = ("domain", "website", "email")
COUNTRY_COLUMN = "country"
POPULATION_COLUMN = "population"


class MissingColumns(ValueError):
    """An accounts table lacks the id column, or has no column to match on (name, domain, website, email)."""

    def __init__(self, side: str, missing: list[str]) -> None:
        self.side = side
        self.missing = missing
        super().__init__(f"{side} accounts: missing {' and '.join(missing)}")


def required_columns_missing(columns: list[str]) -> list[str]:
    """What a table with these columns lacks to be matched: an id, and one key column."""
    missing = [] if ID_COLUMN in columns else [ID_COLUMN]
    if NAME_COLUMN not in columns and not any(c in columns for c in DOMAIN_COLUMNS):
        missing.append(f"a {NAME_COLUMN}, {', '.join(DOMAIN_COLUMNS[:-1])} or {DOMAIN_COLUMNS[-1]} column")
    return missing


def _normalise_domain_aliases(aliases: pa.Table | None) -> tuple[pa.Array, pa.Array]:
    if aliases is None or aliases.num_rows == 0:
        return pa.array([], pa.string()), pa.array([], pa.string())
    alias = registrable_domains(aliases.column("alias"))
    canonical = registrable_domains(aliases.column("domain"))
    usable = pc.and_(pc.is_valid(alias), pc.is_valid(canonical))
    return pc.filter(alias, usable), pc.filter(canonical, usable)


def keyed_accounts(table: pa.Table, *, side: str, domain_aliases: pa.Table | None = None) -> pa.Table:
    """One row per input row: `row`, `id`, `name_key`, `name_core`, `domain_raw`, `domain`, `domain_label`,
    `country` (ISO alpha-2), and `population` when the input has one.

    `domain_raw` is the registrable domain found in the record; `domain` is the same after the
    workspace's aliases (alias → canonical domain), and is what matching joins on.
    """
    missing = required_columns_missing(table.column_names)
    if missing:
        raise MissingColumns(side, missing)
    n = table.num_rows
    nulls = pa.nulls(n, pa.string())
    if NAME_COLUMN in table.column_names:
        names = name_keys(table.column(NAME_COLUMN))
        name_key, name_core = names.column("name_key"), names.column("name_core")
    else:
        name_key = name_core = nulls
    domain_raw: pa.Array = nulls
    for column in reversed([c for c in DOMAIN_COLUMNS if c in table.column_names]):
        domain_raw = pc.coalesce(registrable_domains(table.column(column)), domain_raw)
    alias, canonical = _normalise_domain_aliases(domain_aliases)
    domain = pc.coalesce(pc.take(canonical, pc.index_in(domain_raw, value_set=alias)), domain_raw)
    country = country_codes(table.column(COUNTRY_COLUMN)) if COUNTRY_COLUMN in table.column_names else nulls
    columns: dict[str, pa.Array | pa.ChunkedArray] = {
        "row": pa.array(np.arange(n, dtype=np.int64)),
        "id": pc.cast(table.column(ID_COLUMN), pa.string()),
        "name_key": name_key,
        "name_core": name_core,
        "domain_raw": domain_raw,
        "domain": domain,
        "domain_label": domain_label(domain),
        "country": country,
    }
    if POPULATION_COLUMN in table.column_names:
        columns["population"] = pc.cast(table.column(POPULATION_COLUMN), pa.string())
    return pa.table(columns)


def unkeyed(accounts: pa.Table) -> pa.Table:
    """The rows (`row`, `id`) with neither a usable domain nor a name: never matched, always reported."""
    mask = pc.and_(pc.is_null(accounts.column("name_key")), pc.is_null(accounts.column("domain")))
    return accounts.filter(mask).select(["row", "id"])
