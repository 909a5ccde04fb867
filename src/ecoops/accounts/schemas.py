"""Pydantic shapes of users for the API."""

from __future__ import annotations

from pydantic import BaseModel

from ecoops.actors import Role
from ecoops.permissions import Permission
from ecoops.web.fields import UtcDateTime


class MeOut(BaseModel):
    """The user an API token acts as, and what its role allows."""

    id: int
    email: str
    name: str
    role: Role
    permissions: list[Permission]
    last_login_at: UtcDateTime | None
