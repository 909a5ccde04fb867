"""A small workspace for rule tests: a partner manager, an account owner with a Slack id, a partner in
the Technology program at Gold with two contacts, and a helper to write rules."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.orm import Session

from ecoops.accounts.models import PartnerUser, User
from ecoops.actors import SYSTEM, Role
from ecoops.automation.conditions import Conditions
from ecoops.automation.rules import Action, Rule, RuleInput, create_rule
from ecoops.partners import service as partners
from ecoops.partners.models import Partner, Program
from tests.factories import make_partner, make_partner_user, make_user


@dataclass
class Workspace:
    manager: User
    owner: User
    partner: Partner
    contacts: list[PartnerUser]
    program: Program


@pytest.fixture
def ws(session: Session) -> Workspace:
    manager = make_user(session, Role.PARTNER_MANAGER, name="Maria Manager", email="maria@example.com")
    owner = make_user(session, Role.SALES, name="Olga Owner", email="olga@example.com")
    owner.slack_user_id = "U0OLGA"
    program = partners.create_program(session, SYSTEM, name="Technology", tiers=["Silver", "Gold"])
    partner = make_partner(
        session,
        name="Alpha Partners",
        owner_id=manager.id,
        partner_type="technology",
        tiers=[program.tiers[1]],
    )
    contacts = [
        make_partner_user(session, partner, name="Pat Partner", email="pat@alpha.example"),
        make_partner_user(session, partner, name="Quinn Partner", email="quinn@alpha.example"),
    ]
    session.flush()
    return Workspace(manager, owner, partner, contacts, program)


@pytest.fixture
def make_rule(session: Session) -> Callable[..., Rule]:
    def make(trigger: str, actions: list[Action], enabled: bool = True, **conditions: Any) -> Rule:
        data = RuleInput(
            name=f"rule on {trigger}", trigger=trigger, conditions=Conditions(**conditions), actions=actions
        )
        return create_rule(session, SYSTEM, data, enabled=enabled)

    return make
