"""Pydantic shapes of users for the API."""

from __future__ import annotations

from pydantic import BaseModel

from ecoops.actors import ActorKind, Role
from ecoops.permissions import Permission
from ecoops.web.fields import UtcDateTime


class MeOut(BaseModel):
    """The user an API token acts as, and what its role allows.

    A partner user's token has no role and no internal permission: `partner_id` names the partner whose
    records the partner API (/api/v1/portal) shows it.
    """

    id: int
    kind: ActorKind
    email: str
    name: str
    role: Role | None
    partner_id: int | None
    permissions: list[Permission]
    last_login_at: UtcDateTime | None
