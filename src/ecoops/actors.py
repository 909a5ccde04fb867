"""Who is acting: every service call receives an Actor and enforces access with it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """Internal roles, most to least powerful."""

    ADMIN = "admin"
    OPS = "ops"
    PARTNER_MANAGER = "partner_manager"
    SALES = "sales"
    VIEWER = "viewer"


class ActorKind(StrEnum):
    USER = "user"  # an internal user (one of the roles above)
    PARTNER_USER = "partner_user"  # a user bound to one partner
    SYSTEM = "system"  # CLI, demo seeding, the worker


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    id: int | None
    label: str
    role: Role | None = None
    partner_id: int | None = None

    @property
    def is_internal(self) -> bool:
        return self.kind in (ActorKind.USER, ActorKind.SYSTEM)


SYSTEM = Actor(kind=ActorKind.SYSTEM, id=None, label="system", role=Role.ADMIN)


def cli_actor(label: str = "cli") -> Actor:
    """The actor for commands run by whoever has shell access to the deployment (an admin)."""
    return Actor(kind=ActorKind.SYSTEM, id=None, label=label, role=Role.ADMIN)
