"""The web domain of an account or partner, from a website or domain cell.

Kept small and in one function on purpose: the account-mapping work brings a public-suffix-aware
normaliser (`ecoops.engines.matching`) that can replace `registrable_domain` without other changes.
"""

from __future__ import annotations

import re

_SCHEME = re.compile(r"^[a-z][a-z0-9+.\-]*://")
_HOST = re.compile(r"^[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?)+$")
# Second-level labels under which country registries sell names (acme.co.uk, acme.com.au).
_SECOND_LEVEL = frozenset({"co", "com", "net", "org", "gov", "edu", "ac", "ltd", "plc", "ne", "or", "go"})


def registrable_domain(value: str) -> str:
    """`https://www.Shop.Acme.co.uk/path` → `acme.co.uk`; "" when the value holds no plausible host."""
    host = value.strip().lower()
    if not host:
        return ""
    host = _SCHEME.sub("", host)
    host = re.split(r"[/?#\s]", host, maxsplit=1)[0]
    host = host.rsplit("@", 1)[-1].split(":", 1)[0].strip(".")
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return ""
    if not _HOST.match(host):
        return ""
    labels = host.split(".")
    if labels[-1].isdigit():  # an IP address is not a domain
        return ""
    keep = 3 if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL else 2
    return ".".join(labels[-keep:])
