"""Invitation codes and peer addresses: what is accepted, and what is refused with which message."""

from __future__ import annotations

import pytest

from ecoops.accounts.service import InvalidInput
from ecoops.config import Settings
from ecoops.psi.connections import make_code, parse_code
from ecoops.psi.transport import check_peer_url

STRICT = Settings(env="test")
LOOPBACK = Settings(env="test", psi_allow_http_loopback=True)


def test_a_code_carries_the_address_and_the_secret() -> None:
    secret = "s" * 43
    code = make_code("https://ecoops.example.com:8443/base", secret)
    assert code.startswith("ecoops-psi1.") and "ecoops.example.com" not in code
    assert parse_code(f"  {code[:20]}\n{code[20:]} ") == ("https://ecoops.example.com:8443/base", secret)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("", "not an invitation code"),
        ("ecoops-psi1.aGVsbG8", "not an invitation code"),
        ("other.aGVsbG8." + "s" * 43, "not an invitation code"),
        ("ecoops-psi1.aGVsbG8.short", "not an invitation code"),
        ("ecoops-psi1.%%%." + "s" * 43, "the address part is damaged"),
    ],
)
def test_what_is_not_a_code_is_refused(code: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_code(code)


@pytest.mark.parametrize(
    ("url", "settings", "expected"),
    [
        ("https://ecoops.example.com/", STRICT, "https://ecoops.example.com"),
        ("https://ecoops.example.com/sub/", STRICT, "https://ecoops.example.com/sub"),
        ("http://127.0.0.1:8001", LOOPBACK, "http://127.0.0.1:8001"),
        ("http://localhost:8001/", LOOPBACK, "http://localhost:8001"),
        ("http://[::1]:8001", LOOPBACK, "http://[::1]:8001"),
    ],
)
def test_peer_addresses_accepted(url: str, settings: Settings, expected: str) -> None:
    assert check_peer_url(url, settings) == expected


@pytest.mark.parametrize(
    ("url", "settings", "message"),
    [
        ("http://127.0.0.1:8001", STRICT, "https only"),
        ("http://ecoops.example.com", LOOPBACK, "https only"),
        ("http://10.0.0.5", LOOPBACK, "https only"),
        ("ftp://ecoops.example.com", STRICT, "not an http"),
        ("ecoops.example.com", STRICT, "not an http"),
        ("https://user@ecoops.example.com", STRICT, "no user, query or fragment"),
        ("https://ecoops.example.com/?x=1", STRICT, "no user, query or fragment"),
    ],
)
def test_peer_addresses_refused(url: str, settings: Settings, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        check_peer_url(url, settings)
