"""The demo's sequences: seeded and switched on, they enrol the demo's partners without back-filling and
welcome a partner the moment it is moved into onboarding."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from ecoops.actors import SYSTEM
from ecoops.automation.nurture.models import NurtureEnrolment, NurtureSequence
from ecoops.automation.nurture.runner import run_nurture
from ecoops.demo.workspace import seed_workspace
from ecoops.partners import service as partners
from ecoops.partners.models import Partner
from tests.automation.nurture.conftest import deliveries
from tests.factories import cheap_password_hashing, make_partner_user

pytestmark = pytest.mark.all_backends


def test_the_demo_sequences_run_on_a_newly_signed_partner(session, settings):
    now = datetime.now(UTC)
    today = now.astimezone(settings.tz).date()
    with cheap_password_hashing():
        seeded = seed_workspace(session, SYSTEM, seed=3, as_of=today, account_count=60)
    assert seeded.counts["nurture sequences"] == 2
    stages = {
        s.name: (s.stage, s.is_enabled, [x.delay_days for x in s.steps])
        for s in session.scalars(select(NurtureSequence))
    }
    assert stages == {
        "Onboarding": ("onboarding", True, [0, 7, 7, 14, 30]),
        "Recruiting": ("recruiting", True, [0, 14]),
    }

    run_nurture(session, settings, now)
    in_stages = session.scalars(
        select(Partner.id).where(Partner.stage.in_(("onboarding", "recruiting")))
    ).all()
    enrolled = session.scalars(select(NurtureEnrolment.partner_id)).all()
    assert sorted(enrolled) == sorted(in_stages)
    # Nothing from before the demo was seeded is back-filled: only a step due today could have gone out.
    assert all(
        s.due_on >= today
        for e in session.scalars(select(NurtureEnrolment))
        for s in e.sends
        if s.status == "sent"
    )

    signed = session.scalars(select(Partner).where(Partner.stage == "signed").order_by(Partner.id)).first()
    contact = make_partner_user(session, signed, name="New Contact", email="new.contact@signed.example")
    before = len(deliveries(session))
    partners.change_stage(session, SYSTEM, signed, to="onboarding", on=today, today=today)
    run_nurture(session, settings, now)

    welcome = [d for d in deliveries(session)[before:] if d.target == contact.email]
    assert [d.body.subject for d in welcome] == [f"Welcome to the partner program, {signed.name}"]
