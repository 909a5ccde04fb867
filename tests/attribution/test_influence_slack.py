"""Logged influence reaches the deal owner in Slack with Confirm and Dispute buttons; Confirm decides as
the linked user, through a real signed request, and the message is updated through Slack's response URL
(a real HTTP server stands in for Slack); Dispute asks for the reason on the page."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.actors import SYSTEM
from ecoops.attribution import influence
from ecoops.attribution.models import PartnerTouch
from ecoops.automation.templates import build_message
from ecoops.config import Settings
from ecoops.events.models import Event, EventKind
from tests.attribution.test_influence import deal
from tests.automation.rules.slack_requests import button_payload
from tests.automation.rules.test_slack_actions import Recorder, post, settings, slack  # noqa: F401 - fixtures


def _status(session: Session, log_id: int) -> str:
    session.expire_all()
    touch_id = session.get_one(influence.InfluenceLog, log_id).touch_id
    return session.get_one(PartnerTouch, touch_id).status


def test_the_deal_owner_confirms_from_the_slack_button(
    client: TestClient,
    session: Session,
    settings: Settings,  # noqa: F811 - the Slack stand-in's settings
    slack: str,  # noqa: F811
) -> None:
    d = deal(session)
    d.owner.slack_user_id, d.seller.slack_user_id = "U0DANA", "U0SAM"
    data = influence.LogInput(
        d.partner.id, "co_sell_call", date(2025, 3, 3), "Joint call with the CTO", "", "O-ORBIT"
    )
    log = influence.log_influence(session, SYSTEM, data, settings)
    session.flush()
    event = session.scalars(select(Event).where(Event.kind == EventKind.INFLUENCE_LOGGED.value)).one()
    message = build_message(
        event, subject_template="", body_template="", base_url="https://eco.example", currency="USD"
    )
    assert [(b.label, b.action_id, b.value) for b in message.buttons] == [
        ("Confirm", "influence.confirm", str(log.id)),
        ("Dispute…", "influence.dispute", str(log.id)),
    ]
    assert message.subject == "Nimbus Consulting's co sell call on Orbit expansion: please confirm"

    # Sam is not the deal's owner: nothing changes.
    refused = post(client, button_payload("U0SAM", "influence.confirm", log.id)).json()
    assert refused["replace_original"] is False and "may not confirm" in refused["text"]
    # Dispute asks for a reason on the page, and changes nothing either.
    asked = post(client, button_payload("U0DANA", "influence.dispute", log.id)).json()
    assert "needs a reason" in asked["text"]
    assert _status(session, log.id) == "proposed"

    done = post(
        client, button_payload("U0DANA", "influence.confirm", log.id, response_url=f"{slack}/response/7")
    )
    reply = done.json()
    assert reply["blocks"][-1]["elements"][0]["text"] == ":white_check_mark: Confirmed by Dana Deal"
    assert Recorder.received == [reply]
    assert _status(session, log.id) == "confirmed"
    again = post(client, button_payload("U0DANA", "influence.confirm", log.id)).json()
    assert "already confirmed by dana@example.com" in again["text"]
