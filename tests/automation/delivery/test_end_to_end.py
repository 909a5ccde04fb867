"""From a committed domain event to the stand-ins: the tick dispatches it through a rule, then delivers."""

from __future__ import annotations

import pytest
from sqlalchemy import delete

from ecoops.actors import SYSTEM
from ecoops.automation import rules
from ecoops.automation.conditions import Conditions
from ecoops.automation.worker import Worker
from ecoops.db import transaction
from ecoops.events import EventKind, emit
from tests.automation.delivery.helpers import rows

pytestmark = pytest.mark.all_backends


def test_an_event_reaches_slack_and_an_inbox_through_an_enabled_rule(db, delivery_settings, slack, smtp):
    _, inbox = smtp
    actions = [
        rules.Action(kind="slack", to="channel", value="C0SALES"),
        rules.Action(kind="email", to="address", value="pm@example.com"),
    ]
    with transaction(db) as session:
        rule = rules.create_rule(
            session,
            SYSTEM,
            rules.RuleInput(
                name="list uploaded",
                trigger=EventKind.PARTNER_LIST_UPLOADED.value,
                conditions=Conditions(),
                actions=actions,
            ),
            enabled=True,
        )
    try:
        with transaction(db) as session:
            event = emit(session, EventKind.PARTNER_LIST_UPLOADED, rows=12)
        outcomes = Worker(db, delivery_settings).tick()
        assert outcomes == {"delivered": 2}
        stored = list(rows(db).values())
        assert {(d.channel, d.target, d.rule_id, d.event_id) for d in stored} == {
            ("slack", "C0SALES", rule.id, event.id),
            ("email", "pm@example.com", rule.id, event.id),
        }
        by_channel = {d.channel: d.uid for d in stored}
        [post] = slack.posts_to("/api/chat.postMessage")
        assert post.json()["channel"] == "C0SALES"
        assert post.json()["metadata"]["event_payload"]["delivery_uid"] == by_channel["slack"]
        [mail] = inbox.messages
        assert mail["To"] == "pm@example.com"
        assert mail["X-Ecoops-Delivery"] == by_channel["email"]
        assert Worker(db, delivery_settings).tick() == {}  # dispatched once, delivered once
    finally:
        with transaction(db) as session:
            session.execute(delete(rules.Rule).where(rules.Rule.id == rule.id))
