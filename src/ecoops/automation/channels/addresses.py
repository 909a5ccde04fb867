"""Refusing webhook URLs that point inside our own network (SSRF): every address of the host counts."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from ecoops.automation.channels.base import PermanentError, RetryableError


class AddressRefused(PermanentError):
    """The URL resolves to a private, loopback, link-local or otherwise non-public address."""


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def check_url(url: str, *, allow_private: bool) -> None:
    """Raise unless `url` is http(s) and every address of its host is public (or private is allowed)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PermanentError(f"not an http(s) URL with a host: {url!r}")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except socket.gaierror as exc:
        raise RetryableError(f"cannot resolve {parts.hostname}: {exc}") from exc
    addresses = sorted({str(info[4][0]) for info in infos})
    private = [a for a in addresses if not _is_public(a)]
    if private:
        raise AddressRefused(
            f"{parts.hostname} resolves to non-public address {', '.join(private)}; "
            "an admin may allow private addresses for this endpoint"
        )
