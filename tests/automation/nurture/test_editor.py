"""Editing sequences: bad input is refused with a message naming what is wrong, and nothing is stored."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from ecoops.accounts.service import InvalidInput, user_actor
from ecoops.actors import SYSTEM, Role
from ecoops.automation.nurture import sequences
from ecoops.automation.nurture.models import NurtureStep
from ecoops.permissions import Forbidden
from tests.automation.nurture.conftest import make_sequence, step
from tests.factories import make_user

pytestmark = pytest.mark.all_backends


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (step(-1, "partner_email", "Hi"), "the delay cannot be negative"),
        (sequences.StepInput("seven", "partner_email", "Hi", "Body"), "whole number of days, not 'seven'"),
        (step(4000, "partner_email", "Hi"), "at most 3650 days"),
        (step(0, "fax", "Hi"), "unknown channel 'fax'"),
        (
            step(0, "partner_email", "Hi {{ partner_nam }}"),
            "the subject uses an unknown variable ('partner_nam'",
        ),
        (
            step(0, "partner_email", "Hi", "Dear {{ recipient_name"),
            "the body is not a valid template on line 1",
        ),
        (step(0, "partner_email", "Hi", content_url="javascript:alert(1)"), "http(s) address"),
        (step(0, "partner_email", "  "), "the subject needs 1 to 300 characters"),
    ],
)
def test_a_bad_step_is_refused_naming_the_problem_and_not_stored(session, data, message):
    sequence = make_sequence(session, [], enabled_at=None)
    with pytest.raises(InvalidInput) as refused:
        sequences.add_step(session, SYSTEM, sequence, data)
    assert message in str(refused.value)
    assert session.scalar(select(func.count(NurtureStep.id))) == 0


def test_steps_are_kept_in_ascending_order_of_their_day(session):
    sequence = make_sequence(
        session,
        [
            step(30, "partner_email", "Nudge"),
            step(0, "partner_email", "Welcome"),
            step(7, "manager_email", "Check"),
        ],
        enabled_at=None,
    )
    session.expire(sequence)
    assert [(s.delay_days, s.subject) for s in sequence.steps] == [
        (0, "Welcome"),
        (7, "Check"),
        (30, "Nudge"),
    ]


def test_sequence_names_are_unique_and_stages_known(session):
    make_sequence(session, [], enabled_at=None, name="Onboarding")
    with pytest.raises(InvalidInput, match="already exists"):
        sequences.create_sequence(session, SYSTEM, name="onboarding", stage="onboarding")
    with pytest.raises(InvalidInput, match="unknown stage 'launch'"):
        sequences.create_sequence(session, SYSTEM, name="Launch", stage="launch")


def test_a_sequence_switches_on_only_with_a_step_and_keeps_one_while_on(session):
    sequence = make_sequence(session, [], enabled_at=None)
    with pytest.raises(InvalidInput, match="add a step"):
        sequences.set_enabled(session, SYSTEM, sequence, True)
    only = sequences.add_step(session, SYSTEM, sequence, step(0, "partner_email", "Hi"))
    sequences.set_enabled(session, SYSTEM, sequence, True)
    assert sequence.enabled_at is not None
    with pytest.raises(InvalidInput, match="switch it off first"):
        sequences.delete_step(session, SYSTEM, only)


def test_only_automation_managers_edit_sequences(session):
    seller = user_actor(make_user(session, Role.SALES))
    with pytest.raises(Forbidden):
        sequences.create_sequence(session, seller, name="Mine", stage="onboarding")
    manager = user_actor(make_user(session, Role.PARTNER_MANAGER))
    assert (
        sequences.create_sequence(session, manager, name="Mine", stage="onboarding").created_by
        == manager.label
    )
