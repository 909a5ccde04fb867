"""CRM secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256) with a key from the settings.

`ECOOPS_CRM_SECRETS_KEY` is a Fernet key (urlsafe base64 of 32 bytes); when it is empty, the key is
derived from `ECOOPS_SECRET_KEY` with HKDF-SHA256, so changing the secret key makes stored CRM
secrets unreadable: the connection page then asks to connect again.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ecoops.config import Settings

_INFO = b"ecoops crm connection secrets"


class SecretUnreadable(Exception):
    """A stored secret was encrypted with another key: the connection must be made again."""


def fernet(settings: Settings) -> Fernet:
    if settings.crm_secrets_key:
        return Fernet(settings.crm_secrets_key.encode())
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        settings.secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def seal(settings: Settings, value: str) -> str:
    """The encrypted form of `value` (empty stays empty)."""
    return fernet(settings).encrypt(value.encode()).decode() if value else ""


def unseal(settings: Settings, token: str) -> str:
    if not token:
        return ""
    try:
        return fernet(settings).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable(
            "a stored Salesforce secret cannot be decrypted with this server's key "
            "(ECOOPS_CRM_SECRETS_KEY or ECOOPS_SECRET_KEY changed): connect again"
        ) from exc


def new_key() -> str:
    return Fernet.generate_key().decode()
