"""Accounts as the matcher sees them: the input columns it reads and the keys it derives from them."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ecoops.engines.matching.countries import countries_of_domains, country_codes
from ecoops.engines.matching.domains import (
    domain_label,
    every_registrable_domain,
    registrable_domains,
    several_urls,
)
from ecoops.engines.matching.names import name_keys
from ecoops.engines.matching.relations import query

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


_EVERY_DOMAIN_SQL = """
SELECT row, list(domain ORDER BY pos) AS domains
FROM (SELECT row, domain, min(pos) AS pos FROM found WHERE domain IS NOT NULL GROUP BY row, domain)
GROUP BY row
"""


def _domains(table: pa.Table) -> tuple[pa.Array, pa.Array]:
    """Each record's first usable registrable domain (from its domain, website, then e-mail column), and
    its others where a field holds several URLs ("www.aboutschwab.com www.schwab.com"): a list, null
    for the many records that have one."""
    n = table.num_rows
    first: pa.Array = pa.nulls(n, pa.string())
    found: list[pa.Table] = []
    for k, column in enumerate(c for c in DOMAIN_COLUMNS if c in table.column_names):
        values = table.column(column)
        first = pc.coalesce(first, registrable_domains(values))
        several = several_urls(values)
        if pc.any(several).as_py():
            rows = np.flatnonzero(several.to_numpy(zero_copy_only=False))
            lists = every_registrable_domain(pc.filter(values, several))
            parents = pc.list_parent_indices(lists).to_numpy()
            position = (k + 1) * (1 << 40) + np.arange(len(parents), dtype=np.int64)  # columns in order
            found.append(pa.table({"row": rows[parents], "pos": position, "domain": lists.flatten()}))
    if not found:
        return first, pa.nulls(n, pa.list_(pa.string()))
    rows = np.unique(np.concatenate([part.column("row").to_numpy() for part in found]))
    # The first domain found as before stays first (its position is 0).
    firsts = pa.table({"row": rows, "pos": np.zeros(len(rows), np.int64), "domain": pc.take(first, rows)})
    every = query(_EVERY_DOMAIN_SQL, found=pa.concat_tables([firsts, *found]))
    at = pc.index_in(pa.array(np.arange(n)), value_set=every.column("row"))
    lists = pc.take(every.column("domains"), at)
    first = pc.coalesce(first, pc.list_element(lists, 0))
    more: pa.Array = pc.if_else(pc.greater(pc.list_value_length(lists), 1), pc.list_slice(lists, 1), None)
    return first, more


# What `name_keys` gives each record.
_NAME_COLUMNS = ("name_key", "name_core", "structure", "numbers", "legal_forms", "form_countries")


def keyed_accounts(table: pa.Table, *, side: str, domain_aliases: pa.Table | None = None) -> pa.Table:
    """One row per input row: `row`, `id`, `name_key`, `name_core`, `structure`, `numbers`,
    `legal_forms`, `form_countries` (see `name_keys`), `domain_raw`, `domain`, `domain_label`,
    `more_domains` (a record's other domains, where a field holds several URLs), `country` (ISO alpha-2;
    from the domain's country-code suffix where the record has none) and `country_source` (`field` or
    `domain`), and `population` when the input has one.

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
    else:
        names = pa.table({c: nulls for c in _NAME_COLUMNS})
    domain_raw, more_domains = _domains(table)
    alias, canonical = _normalise_domain_aliases(domain_aliases)

    def aliased(domains: pa.Array) -> pa.Array:
        result: pa.Array = pc.coalesce(pc.take(canonical, pc.index_in(domains, value_set=alias)), domains)
        return result

    domain = aliased(domain_raw)
    more = more_domains.combine_chunks() if isinstance(more_domains, pa.ChunkedArray) else more_domains
    more_domains = pa.ListArray.from_arrays(more.offsets, aliased(more.flatten()), mask=pc.is_null(more))
    country = country_codes(table.column(COUNTRY_COLUMN)) if COUNTRY_COLUMN in table.column_names else nulls
    # A record with no country takes the one its own domain's country-code suffix names ("ihi.fr": FR),
    # and says so (`country_source`); ".com" and the suffixes used anywhere for their look say nothing.
    of_domain = countries_of_domains(domain_raw)
    from_domain = pc.and_(pc.is_null(country), pc.is_valid(of_domain))
    country = pc.coalesce(country, of_domain)
    country_source = pc.if_else(from_domain, "domain", pc.if_else(pc.is_valid(country), "field", None))
    columns: dict[str, pa.Array | pa.ChunkedArray] = {
        "row": pa.array(np.arange(n, dtype=np.int64)),
        "id": pc.cast(table.column(ID_COLUMN), pa.string()),
        "name_key": names.column("name_key"),
        "name_core": names.column("name_core"),
        **{c: names.column(c) for c in _NAME_COLUMNS[2:]},
        "domain_raw": domain_raw,
        "domain": domain,
        "domain_label": domain_label(domain),
        "more_domains": more_domains,
        "country": country,
        "country_source": country_source,
    }
    if POPULATION_COLUMN in table.column_names:
        columns["population"] = pc.cast(table.column(POPULATION_COLUMN), pa.string())
    return pa.table(columns)


def unkeyed(accounts: pa.Table) -> pa.Table:
    """The rows (`row`, `id`) with neither a usable domain nor a name: never matched, always reported."""
    mask = pc.and_(pc.is_null(accounts.column("name_key")), pc.is_null(accounts.column("domain")))
    return accounts.filter(mask).select(["row", "id"])
