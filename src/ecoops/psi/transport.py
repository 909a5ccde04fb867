"""HTTP between two ecoops servers: the one client every outgoing request goes through, peer URL
checks, and the errors a peer's answer turns into.

TLS certificates are verified (against `ECOOPS_PSI_CA_BUNDLE` when set); plain http is refused
except to a loopback address when `ECOOPS_PSI_ALLOW_HTTP_LOOPBACK` is on (development and tests).
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

import httpx

from ecoops.accounts.service import InvalidInput
from ecoops.config import Settings

REVOKED_HEADER = "x-ecoops-psi"  # value "revoked" on a refusal because the connection was revoked
USER_AGENT = "ecoops-psi/1"


class PeerError(Exception):
    """The peer could not be reached, or refused a request; the message says which and why."""


class PeerRevoked(PeerError):
    """The peer answered that it revoked the connection."""


def check_peer_url(url: str, settings: Settings) -> str:
    """The peer's base URL without a trailing slash; InvalidInput names what is wrong with it."""
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidInput(f"{url!r} is not an http(s) URL of an ecoops server")
    if parts.query or parts.fragment or parts.username:
        raise InvalidInput(f"{url!r}: a base URL has no user, query or fragment")
    if parts.scheme == "http" and not (settings.psi_allow_http_loopback and _is_loopback(parts.hostname)):
        raise InvalidInput(
            f"{url!r}: private mapping talks to other servers over https only "
            "(plain http only to a loopback address, with ECOOPS_PSI_ALLOW_HTTP_LOOPBACK=true)"
        )
    return url


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def peer_client(settings: Settings) -> httpx.Client:
    """The client for one conversation with a peer (tests wrap it to capture what crosses)."""
    return httpx.Client(
        verify=settings.psi_ca_bundle or True,
        timeout=httpx.Timeout(settings.psi_timeout_seconds, connect=10),
        headers={"user-agent": USER_AGENT},
        follow_redirects=False,
    )


def post(
    settings: Settings,
    base_url: str,
    path: str,
    *,
    token: str | None = None,
    content: bytes | None = None,
    json: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST to the peer; a refusal or an unreachable peer raises PeerError (PeerRevoked when revoked)."""
    url = check_peer_url(base_url, settings) + path
    sent = dict(headers or {})
    if token is not None:
        sent["authorization"] = f"Bearer {token}"
    if content is not None:
        sent["content-type"] = "application/octet-stream"
    try:
        with peer_client(settings) as client:
            response = client.post(url, content=content, json=json, headers=sent)
    except httpx.HTTPError as exc:
        raise PeerError(f"could not reach {base_url}: {exc}") from None
    if response.status_code >= 400:
        detail = _detail(response)
        if response.status_code == 403 and response.headers.get(REVOKED_HEADER) == "revoked":
            raise PeerRevoked(f"{base_url} revoked the connection")
        raise PeerError(f"{base_url} refused ({response.status_code}): {detail}")
    return response


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase
    detail = body.get("detail") if isinstance(body, dict) else None
    return str(detail)[:300] if detail else response.text[:300]
