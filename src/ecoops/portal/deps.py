"""The portal pages' dependency: the signed-in partner user (anyone else: 403)."""

from __future__ import annotations

from fastapi import Depends

from ecoops.actors import Actor
from ecoops.portal.service import require_partner_user
from ecoops.web.deps import page_actor


async def partner_user(actor: Actor = Depends(page_actor)) -> Actor:
    require_partner_user(actor)
    return actor
