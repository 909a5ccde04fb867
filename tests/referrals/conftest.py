"""Fixtures for referral tests: a partner manager, two partners and a helper to submit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session

from ecoops.accounts.models import User
from ecoops.accounts.service import user_actor
from ecoops.actors import Actor, Role
from ecoops.config import Settings
from ecoops.partners.models import Partner
from ecoops.referrals.models import Referral, Via
from ecoops.referrals.submission import ReferralInput, submit
from tests.factories import make_partner, make_user


@pytest.fixture
def manager(session: Session) -> User:
    return make_user(session, Role.PARTNER_MANAGER, name="Maria Manager", email="maria@example.com")


@pytest.fixture
def manager_actor(manager: User) -> Actor:
    return user_actor(manager)


@pytest.fixture
def partners(session: Session, manager: User) -> tuple[Partner, Partner]:
    return (
        make_partner(session, name="Alpha Partners", owner_id=manager.id, country="DE"),
        make_partner(session, name="Beta Partners", owner_id=manager.id, country="FR"),
    )


@pytest.fixture
def submit_as(session: Session, settings: Settings, manager_actor: Actor) -> Callable[..., Referral]:
    """Submit an inbound referral for `partner` (on its behalf, as the manager unless `actor` is given)."""

    def submit_for(partner: Partner, actor: Actor | None = None, **fields: Any) -> Referral:
        data = ReferralInput(**({"kind": "deal_registration", "company": "Acme GmbH"} | fields))
        return submit(
            session, actor or manager_actor, data, settings=settings, via=Via.INTERNAL, partner_id=partner.id
        )

    return submit_for
