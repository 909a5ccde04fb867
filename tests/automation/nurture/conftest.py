"""A nurture workspace with hand-set clocks: an onboarding sequence switched on at a known moment, a
partner manager, and a signed partner with two active contacts and one deactivated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.accounts.models import PartnerUser, User
from ecoops.actors import SYSTEM, Role
from ecoops.automation.deliveries import Delivery
from ecoops.automation.nurture import sequences
from ecoops.automation.nurture.models import NurtureSequence
from ecoops.partners import service as partners
from ecoops.partners.models import Partner, PartnerStageChange
from tests.factories import make_partner, make_partner_user, make_user

ENABLED_AT = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def step(delay: int, channel: str, subject: str, body: str = "Hello {{ recipient_name }}", **more: str):
    return sequences.StepInput(str(delay), channel, subject, body, **more)


def make_sequence(
    session: Session,
    steps: list[sequences.StepInput],
    *,
    stage: str = "onboarding",
    name: str = "Onboarding",
    enabled_at: datetime | None = ENABLED_AT,
) -> NurtureSequence:
    """A sequence whose switch-on and step stamps are `enabled_at`, not the wall clock."""
    sequence = sequences.create_sequence(session, SYSTEM, name=name, stage=stage)
    for data in steps:
        added = sequences.add_step(session, SYSTEM, sequence, data)
        added.created_at = enabled_at or ENABLED_AT
    if enabled_at is not None:
        sequences.set_enabled(session, SYSTEM, sequence, True)
        sequence.enabled_at = enabled_at
    session.flush()
    return sequence


def onboarding(session: Session, **kwargs) -> NurtureSequence:
    return make_sequence(
        session,
        [
            step(
                0,
                "partner_email",
                "Welcome to the program, {{ partner_name }}",
                content_url="https://example.com/playbook",
                content_title="Partner playbook",
            ),
            step(7, "manager_email", "Check in with {{ partner_name }}", "Day {{ day }} of onboarding."),
            step(30, "partner_email", "Your first referral, {{ recipient_name }}?"),
        ],
        **kwargs,
    )


def move(session: Session, partner: Partner, to: str, on: date, recorded: datetime | None = None) -> None:
    """Record a stage move dated `on`, typed in at `recorded` (default: noon of `on`)."""
    change = partners.change_stage(session, SYSTEM, partner, to=to, on=on, today=on)
    change.recorded_at = recorded or at(on)
    session.flush()


@dataclass
class Workspace:
    manager: User
    partner: Partner
    contacts: list[PartnerUser]


@pytest.fixture
def ws(session: Session) -> Workspace:
    manager = make_user(session, Role.PARTNER_MANAGER, name="Maria Manager", email="maria@example.com")
    partner = make_partner(
        session, name="Acme Cloud", owner_id=manager.id, stage="signed", stage_since=date(2030, 2, 1)
    )
    session.scalars(
        select(PartnerStageChange).where(PartnerStageChange.partner_id == partner.id)
    ).one().recorded_at = at(date(2030, 2, 1))
    contacts = [
        make_partner_user(session, partner, name="Pat Partner", email="pat@acme.example"),
        make_partner_user(session, partner, name="Quinn Partner", email="quinn@acme.example"),
    ]
    gone = make_partner_user(session, partner, name="Former Contact", email="former@acme.example")
    gone.is_active = False
    session.flush()
    return Workspace(manager, partner, contacts)


def deliveries(session: Session) -> list[Delivery]:
    return list(session.scalars(select(Delivery).where(Delivery.source == "nurture").order_by(Delivery.id)))
