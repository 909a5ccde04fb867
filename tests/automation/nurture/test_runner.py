"""The nurture tick on hand-worked dates: enrol, send each due step once, stop on a move, never back-fill."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from ecoops.actors import SYSTEM
from ecoops.automation.nurture import sequences
from ecoops.automation.nurture.models import NurtureEnrolment, NurtureSend
from ecoops.automation.nurture.runner import run_nurture
from ecoops.automation.tasks import Task
from ecoops.config import Settings
from tests.automation.nurture.conftest import at, deliveries, make_sequence, move, onboarding, step

pytestmark = pytest.mark.all_backends

SIGNED = date(2030, 3, 2)  # the partner moves into onboarding on this day: day 0


def enrolment(session) -> NurtureEnrolment:
    return session.scalars(select(NurtureEnrolment)).one()


def test_a_newly_onboarding_partner_gets_day_0_at_once_day_7_a_week_later_and_nothing_twice(
    session, settings, ws
):
    onboarding(session)
    move(session, ws.partner, "onboarding", SIGNED)

    run_nurture(session, settings, at(SIGNED, 13))
    welcome = deliveries(session)
    # Day 0 goes to each active contact (not the deactivated one), with the playbook link.
    assert sorted(d.target for d in welcome) == ["pat@acme.example", "quinn@acme.example"]
    assert {d.body.subject for d in welcome} == {"Welcome to the program, Acme Cloud"}
    assert all(d.partner_id == ws.partner.id and d.channel == "email" for d in welcome)
    [playbook] = welcome[0].body.buttons
    assert (playbook.label, playbook.url) == ("Partner playbook", "https://example.com/playbook")
    assert 'href="https://example.com/playbook"' in welcome[0].body.html
    assert welcome[0].body.text.startswith("Hello Pat Partner")
    assert enrolment(session).next_due_on == date(2030, 3, 9)  # the next tick to look at it: day 7

    # Re-runs the same day, and days 1 to 6, send nothing more.
    run_nurture(session, settings, at(SIGNED, 14))
    run_nurture(session, settings, at(date(2030, 3, 8), 23))
    assert len(deliveries(session)) == 2

    # Day 7 is 2030-03-09: the check-in goes to the partner manager, once.
    run_nurture(session, settings, at(date(2030, 3, 9), 0))
    run_nurture(session, settings, at(date(2030, 3, 9), 18))
    check_in = deliveries(session)[2:]
    assert [(d.target, d.body.subject, d.recipient) for d in check_in] == [
        ("maria@example.com", "Check in with Acme Cloud", f"user:{ws.manager.id}")
    ]
    assert check_in[0].body.text == "Day 7 of onboarding."
    assert len({d.uid for d in deliveries(session)}) == 3
    assert enrolment(session).next_due_on == date(2030, 4, 1)  # day 30
    assert enrolment(session).status == "active"


def test_moving_on_stops_the_rest_with_the_reason(session, settings, ws):
    onboarding(session)
    move(session, ws.partner, "onboarding", SIGNED)
    run_nurture(session, settings, at(SIGNED))
    move(session, ws.partner, "active", date(2030, 3, 20))

    run_nurture(session, settings, at(date(2030, 4, 5)))  # past day 30 (2030-04-01) and day 7

    assert len(deliveries(session)) == 2  # the day-0 welcome only
    stopped = enrolment(session)
    assert (stopped.status, stopped.end_reason) == ("stopped", "moved to active on 2030-03-20")
    assert [s.due_on for s in stopped.sends] == [SIGNED]


def test_coming_back_to_the_stage_starts_a_new_enrolment(session, settings, ws):
    onboarding(session)
    move(session, ws.partner, "onboarding", SIGNED)
    run_nurture(session, settings, at(SIGNED))
    move(session, ws.partner, "active", date(2030, 3, 5))
    move(session, ws.partner, "onboarding", date(2030, 3, 6))

    run_nurture(session, settings, at(date(2030, 3, 6)))

    enrolments = session.scalars(select(NurtureEnrolment).order_by(NurtureEnrolment.id)).all()
    assert [(e.entered_on, e.status) for e in enrolments] == [
        (SIGNED, "stopped"),
        (date(2030, 3, 6), "active"),
    ]
    assert len(deliveries(session)) == 4  # a new welcome to both contacts for the new stay


def test_a_worker_that_was_down_still_sends_what_fell_due_since_the_move_was_recorded(session, settings, ws):
    onboarding(session)
    move(session, ws.partner, "onboarding", SIGNED)

    run_nurture(session, settings, at(date(2030, 3, 10)))  # first tick eight days later: day 0 and day 7 due

    assert [d.body.subject for d in deliveries(session)] == [
        "Welcome to the program, Acme Cloud",
        "Welcome to the program, Acme Cloud",
        "Check in with Acme Cloud",
    ]


def test_a_sequence_switched_on_later_does_not_back_fill(session, settings, ws):
    move(session, ws.partner, "onboarding", SIGNED)
    onboarding(session, enabled_at=at(date(2030, 3, 10), 9))

    run_nurture(session, settings, at(date(2030, 3, 10), 10))
    assert deliveries(session) == []
    sends = enrolment(session).sends
    assert [(s.due_on, s.status, s.reason) for s in sends] == [
        (date(2030, 3, 2), "skipped", "due 2030-03-02, before 2030-03-10: not back-filled"),
        (date(2030, 3, 9), "skipped", "due 2030-03-09, before 2030-03-10: not back-filled"),
    ]

    run_nurture(session, settings, at(date(2030, 4, 1), 8))  # day 30 falls after the switch-on: sent
    assert [d.body.subject for d in deliveries(session)] == [
        "Your first referral, Pat Partner?",
        "Your first referral, Quinn Partner?",
    ]
    assert enrolment(session).status == "completed"


def test_a_move_typed_in_with_a_back_date_does_not_back_fill(session, settings, ws):
    onboarding(session)
    move(session, ws.partner, "onboarding", date(2030, 3, 5), recorded=at(date(2030, 3, 15)))

    run_nurture(session, settings, at(date(2030, 3, 15)))

    assert deliveries(session) == []
    assert enrolment(session).sends_from == date(2030, 3, 15)
    assert {s.status for s in enrolment(session).sends} == {"skipped"}


def test_a_step_added_later_is_not_back_filled_but_sent_when_still_ahead(session, settings, ws):
    sequence = make_sequence(session, [step(0, "manager_email", "Welcome call for {{ partner_name }}")])
    move(session, ws.partner, "onboarding", SIGNED)
    run_nurture(session, settings, at(SIGNED))
    assert enrolment(session).status == "completed"

    late = sequences.add_step(session, SYSTEM, sequence, step(10, "manager_email", "Day ten"))  # due 03-12
    late.created_at = at(date(2030, 3, 20))
    ahead = sequences.add_step(session, SYSTEM, sequence, step(20, "manager_email", "Day twenty"))  # 03-22
    ahead.created_at = at(date(2030, 3, 20))
    session.flush()
    assert enrolment(session).status == "active"  # reopened for the new steps

    run_nurture(session, settings, at(date(2030, 3, 22)))

    assert [d.body.subject for d in deliveries(session)] == ["Welcome call for Acme Cloud", "Day twenty"]
    fates = {s.subject: s.status for s in enrolment(session).sends}
    assert fates == {"Welcome call for Acme Cloud": "sent", "Day ten": "skipped", "Day twenty": "sent"}


def test_days_are_counted_in_the_workspace_time_zone(session, ws, tmp_path):
    settings = Settings(env="test", var_dir=tmp_path, secret_key="t" * 40, timezone="America/New_York")
    onboarding(session)
    move(session, ws.partner, "onboarding", SIGNED)
    run_nurture(session, settings, at(SIGNED, 15))  # 10:00 in New York on day 0

    run_nurture(session, settings, at(date(2030, 3, 9), 3))  # 22:00 on 2030-03-08 in New York: day 6
    assert len(deliveries(session)) == 2
    run_nurture(session, settings, at(date(2030, 3, 9), 5))  # 00:00 on 2030-03-09 in New York: day 7
    assert len(deliveries(session)) == 3


def test_slack_task_and_nobody_to_send_to(session, settings, ws):
    ws.manager.slack_user_id = "U0MARIA"
    make_sequence(
        session,
        [
            step(0, "manager_slack", "{{ partner_name }} is onboarding"),
            step(0, "manager_slack", "Team: {{ partner_name }}", slack_channel="#partner-team"),
            step(1, "manager_task", "Book the kick-off with {{ partner_name }}"),
        ],
    )
    orphan = ws.partner
    move(session, orphan, "onboarding", SIGNED)
    run_nurture(session, settings, at(date(2030, 3, 3)))

    slack = [(d.channel, d.target, d.body.mention) for d in deliveries(session)]
    assert slack == [("slack", "U0MARIA", "U0MARIA"), ("slack", "#partner-team", "U0MARIA")]
    task = session.scalars(select(Task)).one()
    assert (task.user_id, task.title, task.due_on) == (
        ws.manager.id,
        "Book the kick-off with Acme Cloud",
        date(2030, 3, 3),
    )
    assert task.link.endswith(f"/partners/{ws.partner.id}")

    # A partner without a manager: the manager's steps are skipped, with the reason.
    orphan.owner_id = None
    move(session, orphan, "active", date(2030, 3, 4))
    move(session, orphan, "onboarding", date(2030, 3, 5))
    run_nurture(session, settings, at(date(2030, 3, 6)))
    latest = session.scalars(select(NurtureEnrolment).order_by(NurtureEnrolment.id.desc())).first()
    assert {s.reason for s in latest.sends} == {
        "the partner manager has no Slack user id and the step names no channel",
        "posted to #partner-team",
        "the partner has no active partner manager",
    }
    assert session.scalar(
        select(NurtureSend.id).where(NurtureSend.status == "sent", NurtureSend.enrolment_id == latest.id)
    )


def test_switching_off_pauses_and_what_fell_due_meanwhile_is_not_sent_later(session, settings, ws):
    sequence = onboarding(session)
    move(session, ws.partner, "onboarding", SIGNED)
    run_nurture(session, settings, at(SIGNED))
    sequences.set_enabled(session, SYSTEM, sequence, False)

    run_nurture(session, settings, at(date(2030, 3, 12)))  # day 7 (03-09) falls while it is off
    assert len(deliveries(session)) == 2
    sequences.set_enabled(session, SYSTEM, sequence, True)
    sequence.enabled_at = at(date(2030, 3, 12), 13)
    session.flush()

    run_nurture(session, settings, at(date(2030, 3, 12), 14))
    assert len(deliveries(session)) == 2
    assert [(s.due_on, s.status) for s in enrolment(session).sends] == [
        (date(2030, 3, 2), "sent"),
        (date(2030, 3, 9), "skipped"),
    ]
    run_nurture(session, settings, at(date(2030, 4, 1)))  # day 30: after the pause, sent
    assert len(deliveries(session)) == 4


def test_a_new_step_does_not_reopen_a_finished_enrolment_of_a_partner_that_moved_on(session, settings, ws):
    sequence = make_sequence(session, [step(0, "manager_email", "Welcome call")])
    move(session, ws.partner, "onboarding", SIGNED)
    run_nurture(session, settings, at(SIGNED))
    move(session, ws.partner, "active", date(2030, 3, 5))

    sequences.add_step(session, SYSTEM, sequence, step(30, "manager_email", "Later"))
    run_nurture(session, settings, at(date(2030, 4, 2)))

    finished = enrolment(session)
    assert (finished.status, finished.end_reason) == ("completed", "every step sent or skipped")
    assert len(deliveries(session)) == 1
