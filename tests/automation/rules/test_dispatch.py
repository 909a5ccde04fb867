"""Dispatch: matching enabled rules turn an event into deliveries and tasks for the right people, once."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecoops.actors import SYSTEM
from ecoops.audit import utcnow
from ecoops.automation.deliveries import Delivery
from ecoops.automation.dispatch import dispatch_pending, preview
from ecoops.automation.messages import Message
from ecoops.automation.rules import Action
from ecoops.automation.tasks import Task
from ecoops.events import EventKind, emit

pytestmark = pytest.mark.all_backends


def overlap(session: Session, ws, **payload):
    fields = {
        "account_name": "Acme",
        "account_owner": "Olga Owner",
        "population": "Customers",
        "amount": "7500.00",
        "partner_name": ws.partner.name,
        "link": "/mapping/partners/1/overlaps",
    }
    return emit(
        session, EventKind.OVERLAP_BEGAN, partner_id=ws.partner.id, account_crm_id="A1", **(fields | payload)
    )


def deliveries(session: Session) -> list[Delivery]:
    return list(session.scalars(select(Delivery).order_by(Delivery.id)))


def count(session: Session, model) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_every_action_reaches_its_people_and_a_second_run_adds_nothing(session, settings, ws, make_rule):
    rule = make_rule(
        "overlap.began",
        [
            Action("slack", "account_owner"),
            Action("slack", "channel", "C0SALES"),
            Action("email", "partner_manager"),
            Action("email", "partner_contacts"),
            Action("task", "account_owner", due_days=2),
        ],
        population="customers",
        min_amount=Decimal(5000),
        program_id=ws.program.id,
        tier_id=ws.program.tiers[1].id,
        partner_type="technology",
        account_owner="olga owner",
    )
    event = overlap(session, ws)
    now = utcnow()
    assert dispatch_pending(session, settings, now) == 1
    got = {(d.channel, d.target, d.recipient) for d in deliveries(session)}
    assert got == {
        ("slack", "U0OLGA", f"user:{ws.owner.id}"),
        ("slack", "C0SALES", "channel:C0SALES"),
        ("email", "maria@example.com", f"user:{ws.manager.id}"),
        ("email", "pat@alpha.example", f"partner_user:{ws.contacts[0].id}"),
        ("email", "quinn@alpha.example", f"partner_user:{ws.contacts[1].id}"),
    }
    for delivery in deliveries(session):
        assert (delivery.rule_id, delivery.event_id, delivery.source) == (rule.id, event.id, "rule")
        assert delivery.partner_id == ws.partner.id
    channel = next(d for d in deliveries(session) if d.target == "C0SALES")
    message = Message.from_json(channel.message)
    assert message.mention == "U0OLGA"  # the account owner is mentioned in the channel
    assert message.subject == "New overlap: Acme is in Alpha Partners's Customers"
    assert message.link == "http://localhost:8000/mapping/partners/1/overlaps"
    assert "Open pipeline: 7500.00 USD" in message.text
    (task,) = session.scalars(select(Task)).all()
    assert (task.user_id, task.rule_id, task.due_on) == (
        ws.owner.id,
        rule.id,
        (event.occurred_at + timedelta(days=2)).date(),
    )
    assert event.dispatched_at is not None

    assert dispatch_pending(session, settings, now) == 0
    event.dispatched_at = None  # as if the worker died after enqueueing, before marking
    session.flush()
    assert dispatch_pending(session, settings, now) == 1
    assert (count(session, Delivery), count(session, Task)) == (5, 1)


@pytest.mark.parametrize(
    "conditions",
    [
        {"population": "Prospects"},
        {"min_amount": Decimal(10000)},
        {"partner_type": "reseller"},
        {"account_owner": "someone else"},
        {"partner_id": 999999},
    ],
)
def test_a_condition_that_does_not_hold_sends_nothing(session, settings, ws, make_rule, conditions):
    make_rule("overlap.began", [Action("email", "partner_manager")], **conditions)
    overlap(session, ws)
    dispatch_pending(session, settings, utcnow())
    assert deliveries(session) == []


def test_program_and_tier_are_the_partners_current_memberships(session, settings, ws, make_rule):
    make_rule("overlap.began", [Action("email", "partner_manager")], tier_id=ws.program.tiers[0].id)
    overlap(session, ws)
    dispatch_pending(session, settings, utcnow())
    assert deliveries(session) == []  # Alpha is Gold, the rule wants Silver


def test_disabled_rules_and_events_from_before_a_rule_was_enabled_send_nothing(
    session, settings, ws, make_rule
):
    before = overlap(session, ws)
    before.occurred_at = utcnow() - timedelta(hours=1)
    make_rule("overlap.began", [Action("email", "partner_manager")])
    make_rule("overlap.began", [Action("email", "address", "off@example.com")], enabled=False)
    session.flush()
    dispatch_pending(session, settings, utcnow())
    assert deliveries(session) == [] and before.dispatched_at is not None
    overlap(session, ws)
    dispatch_pending(session, settings, utcnow())
    assert [d.target for d in deliveries(session)] == ["maria@example.com"]


def test_an_owner_who_is_not_a_user_is_skipped_and_preview_says_why(session, settings, ws, make_rule):
    rule = make_rule("overlap.began", [Action("slack", "account_owner"), Action("email", "account_owner")])
    overlap(session, ws, account_owner="Nobody Known")
    overlap(session, ws, account_owner="OLGA@example.com")  # an e-mail resolves too, whatever its case
    dispatch_pending(session, settings, utcnow())
    assert {(d.channel, d.target) for d in deliveries(session)} == {
        ("slack", "U0OLGA"),
        ("email", "olga@example.com"),
    }

    total, plans = preview(session, SYSTEM, rule, settings, now=utcnow())
    assert total == 2
    problems = sorted(p.target.problem for p in plans if p.target.problem)
    assert (
        problems
        == ["account owner 'Nobody Known' is not one of our active users (matched by e-mail or name)"] * 2
    )
    assert count(session, Delivery) == 2  # the preview wrote nothing


def test_a_user_without_slack_id_is_named_as_the_problem(session, settings, ws, make_rule):
    ws.owner.slack_user_id = ""
    rule = make_rule("overlap.began", [Action("slack", "account_owner")])
    overlap(session, ws)
    _total, (plan,) = preview(session, SYSTEM, rule, settings, now=utcnow())
    assert plan.target.problem == "Olga Owner has no Slack user id"


def test_a_registration_waiting_for_review_carries_approve_and_reject_buttons(
    session, settings, ws, make_rule
):
    make_rule("referral.submitted", [Action("slack", "channel", "C0DEALS")])
    emit(
        session,
        EventKind.REFERRAL_SUBMITTED,
        partner_id=ws.partner.id,
        referral_id=42,
        referral_kind="deal_registration",
        company="Acme",
        partner_name="Alpha Partners",
        amount="900.00",
        link="/referrals/42",
    )
    emit(
        session,
        EventKind.REFERRAL_SUBMITTED,
        partner_id=ws.partner.id,
        referral_id=43,
        referral_kind="eql",
        company="Beta",
        partner_name="Alpha Partners",
        link="/referrals/43",
    )
    dispatch_pending(session, settings, utcnow())
    registration, lead = (Message.from_json(d.message) for d in deliveries(session))
    assert [(b.action_id, b.value) for b in registration.buttons] == [
        ("registration.approve", "42"),
        ("registration.reject", "42"),
    ]
    assert registration.subject == "New Deal registration #42 from Alpha Partners: Acme"
    assert lead.buttons == ()


def test_an_edited_template_is_used_and_a_broken_one_refused(session, settings, ws, make_rule):
    from ecoops.accounts.service import InvalidInput
    from ecoops.automation.conditions import Conditions
    from ecoops.automation.rules import RuleInput, update_rule

    rule = make_rule("overlap.began", [Action("email", "partner_manager")])
    data = RuleInput(
        name="x",
        trigger="overlap.began",
        conditions=Conditions(),
        actions=rule.action_list,
        subject_template="{{ account_name|upper }} for {{ account_owner }}",
        body_template="Hello {{ missing_key }}.",
    )
    update_rule(session, SYSTEM, rule.id, data)
    overlap(session, ws)
    dispatch_pending(session, settings, utcnow())
    (delivery,) = deliveries(session)
    assert (delivery.body.subject, delivery.body.text) == ("ACME for Olga Owner", "Hello .")
    with pytest.raises(InvalidInput, match="template error on line 1"):
        update_rule(session, SYSTEM, rule.id, RuleInput(**{**data.__dict__, "subject_template": "{{ oops"}))


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (Action("slack", "partner_contacts"), "a slack action cannot go to 'partner contacts'"),
        (Action("email", "address", "not-an-address"), "not an e-mail address"),
        (Action("slack", "channel", ""), "needs one named"),
        (Action("webhook", "endpoint", "abc"), "endpoint must be given by its id"),
        (Action("fax", "user", "1"), "unknown action 'fax'"),
    ],
)
def test_bad_actions_are_refused_with_a_clear_message(session, make_rule, action, message):
    from ecoops.accounts.service import InvalidInput
    from ecoops.automation.rules import Rule

    with pytest.raises(InvalidInput, match=message):
        make_rule("overlap.began", [action])
    assert count(session, Rule) == 0


def test_an_outbound_registration_has_no_review_buttons(session, settings, ws):
    from ecoops.automation.templates import build_message

    event = emit(
        session,
        EventKind.REFERRAL_SUBMITTED,
        partner_id=ws.partner.id,
        referral_id=7,
        referral_kind="deal_registration",
        direction="outbound",
        company="Ours",
    )
    message = build_message(
        event, subject_template="", body_template="", base_url="https://x", currency="EUR"
    )
    assert message.buttons == ()


def test_direction_and_referral_kind_conditions(session, settings, ws, make_rule):
    make_rule(
        "referral.submitted",
        [Action("email", "partner_manager")],
        direction="inbound",
        referral_kind="deal_registration",
    )
    for direction, kind, company in (
        ("inbound", "deal_registration", "Wanted"),
        ("outbound", "deal_registration", "Ours"),
        ("inbound", "eql", "A lead"),
    ):
        emit(
            session,
            EventKind.REFERRAL_SUBMITTED,
            partner_id=ws.partner.id,
            referral_id=1,
            direction=direction,
            referral_kind=kind,
            company=company,
            partner_name="Alpha Partners",
            submitted_by="Sam",
        )
    dispatch_pending(session, settings, utcnow())
    (delivery,) = deliveries(session)
    assert delivery.body.subject == "New Deal registration #1 from Alpha Partners: Wanted"


def test_outbound_referrals_read_as_ours_in_the_default_messages(session, ws):
    from ecoops.automation.templates import build_message

    def message(kind, **payload):
        event = emit(
            session,
            kind,
            partner_id=ws.partner.id,
            referral_id=9,
            referral_kind="eql",
            company="Out Co",
            partner_name="Alpha Partners",
            direction="outbound",
            **payload,
        )
        return build_message(
            event, subject_template="", body_template="", base_url="https://x", currency="EUR"
        )

    sent = message(EventKind.REFERRAL_SUBMITTED, submitted_by="Sam Seller")
    assert (sent.subject, sent.text) == (
        "Referred to Alpha Partners: Out Co (#9)",
        "Sam Seller referred Out Co to Alpha Partners; it waits for their answer.",
    )
    assert message(EventKind.REFERRAL_APPROVED).subject == "Accepted by Alpha Partners: Out Co"
    assert message(EventKind.REFERRAL_REJECTED, reason="busy").text == "Alpha Partners declined Out Co: busy."
