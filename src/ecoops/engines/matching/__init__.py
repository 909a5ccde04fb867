"""Account matching: normalise names, domains and countries, find candidate pairs, score and explain them.

Pure and columnar: Arrow tables in, Arrow tables out, DuckDB and rapidfuzz inside. See docs/mapping.md."""

from ecoops.engines.matching.accounts import MissingColumns, keyed_accounts, required_columns_missing
from ecoops.engines.matching.countries import country_code, country_codes
from ecoops.engines.matching.domains import registrable_domain, registrable_domains
from ecoops.engines.matching.matcher import METHODS, MatchResult, MatchSettings, Overrides, match_accounts
from ecoops.engines.matching.names import name_keys, normalise_name

__all__ = [
    "METHODS",
    "MatchResult",
    "MatchSettings",
    "MissingColumns",
    "Overrides",
    "country_code",
    "country_codes",
    "keyed_accounts",
    "match_accounts",
    "name_keys",
    "normalise_name",
    "registrable_domain",
    "registrable_domains",
    "required_columns_missing",
]
