"""The web domain of an imported account or partner, by the matching engine's normaliser.

One normaliser for imports and matching, so a stored `Account.domain` is exactly the key that
account mapping joins on (public suffixes, free-mail and placeholder domains handled there).
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc

from ecoops.engines.matching.domains import registrable_domains


def account_domains(domains: Sequence[object], websites: Sequence[object]) -> list[str]:
    """Per row, the registrable domain of the domain cell, else of the website cell, else ""."""
    from_domain = registrable_domains(pa.array([str(d) for d in domains], pa.string()))
    from_website = registrable_domains(pa.array([str(w) for w in websites], pa.string()))
    domains_found: list[str] = pc.fill_null(pc.coalesce(from_domain, from_website), "").to_pylist()
    return domains_found


def account_domain(domain: object, website: object) -> str:
    return account_domains([domain], [website])[0]
