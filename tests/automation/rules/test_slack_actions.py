"""Approving and rejecting a deal registration from its Slack button, through real signed requests."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.accounts.models import User
from ecoops.accounts.service import user_actor
from ecoops.actors import Role
from ecoops.audit import AuditEvent
from ecoops.config import Settings
from ecoops.referrals.models import Referral, Via
from ecoops.referrals.submission import ReferralInput, submit
from tests.automation.rules.slack_requests import SIGNING_SECRET, button_payload, signed
from tests.factories import make_partner, make_user

URL = "/integrations/slack/actions"


class Recorder(BaseHTTPRequestHandler):
    """Slack's response_url stand-in: keeps every JSON body posted to it."""

    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", 0))
        Recorder.received.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def slack() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), Recorder)
    Recorder.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def settings(tmp_path: Path, slack: str) -> Settings:
    return Settings(
        env="test",
        var_dir=tmp_path / "var",
        secret_key="t" * 40,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=f"{slack}/api/",
    )


@pytest.fixture
def registration(session: Session, settings: Settings) -> Referral:
    manager = make_user(session, Role.PARTNER_MANAGER, name="Maria Manager")
    seller = make_user(session, Role.SALES, name="Sam Seller")
    manager.slack_user_id, seller.slack_user_id = "U0MARIA", "U0SAM"
    partner = make_partner(session, name="Alpha Partners")
    data = ReferralInput(kind="deal_registration", company="Acme GmbH", domain="acme.de")
    referral = submit(
        session, user_actor(manager), data, settings=settings, via=Via.INTERNAL, partner_id=partner.id
    )
    session.flush()
    return referral


def post(client, payload: dict[str, Any], **signing: Any):
    body, headers = signed(payload, **signing)
    return client.post(URL, content=body, headers=headers)


def test_a_reviewer_approves_from_the_button_and_the_message_is_updated(client, session, registration, slack):
    payload = button_payload(
        "U0MARIA", "registration.approve", registration.id, response_url=f"{slack}/response/1"
    )
    response = post(client, payload)
    assert response.status_code == 200
    reply = response.json()
    assert reply["replace_original"] is True
    assert [b["type"] for b in reply["blocks"]] == ["section", "context"]  # the buttons are gone
    assert reply["blocks"][-1]["elements"][0]["text"] == ":white_check_mark: Approved by Maria Manager"
    assert Recorder.received == [reply]  # the same update, through the response URL

    session.expire_all()
    referral = session.get(Referral, registration.id)
    assert referral.status == "approved" and referral.registration_expires_on is not None
    maria = session.scalar(select(User).where(User.slack_user_id == "U0MARIA"))
    assert referral.reviewer_id == maria.id  # approved as the linked user, and audited as them
    approved = session.scalar(select(AuditEvent).where(AuditEvent.action == "referral.approved"))
    assert approved is not None and approved.actor_label == maria.email


def test_a_reviewer_rejects_from_the_button(client, session, registration):
    response = post(client, button_payload("U0MARIA", "registration.reject", registration.id))
    assert response.json()["blocks"][-1]["elements"][0]["text"] == ":x: Rejected by Maria Manager"
    session.expire_all()
    referral = session.get(Referral, registration.id)
    assert (referral.status, referral.reason) == ("rejected", "rejected from Slack by Maria Manager")


@pytest.mark.parametrize(
    ("signing", "tamper"),
    [
        ({"secret": "not-the-secret"}, False),
        ({"age": 6 * 60}, False),  # replayed after Slack's five-minute window
        ({}, True),  # the body changed after signing
    ],
    ids=["wrong secret", "stale", "tampered"],
)
def test_requests_not_signed_by_slack_are_refused(client, session, registration, signing, tamper):
    body, headers = signed(button_payload("U0MARIA", "registration.approve", registration.id), **signing)
    if tamper:
        body = body.replace(str(registration.id).encode(), b"999")
    response = client.post(URL, content=body, headers=headers)
    assert response.status_code == 403
    assert "not a request signed by Slack" in response.text
    session.expire_all()
    assert session.get(Referral, registration.id).status == "submitted"


def test_an_unsigned_request_is_refused(client, registration):
    response = client.post(
        URL, data={"payload": json.dumps(button_payload("U0MARIA", "registration.approve", 1))}
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("slack_user", "expected"),
    [
        ("U0NOBODY", "Your Slack account (U0NOBODY) is not linked to an active ecoops user"),
        ("U0SAM", "Sam Seller may not review referrals"),
    ],
)
def test_unknown_users_and_non_reviewers_change_nothing_and_are_told(
    client, session, registration, slack_user, expected
):
    response = post(client, button_payload(slack_user, "registration.approve", registration.id))
    assert response.status_code == 200
    reply = response.json()
    assert reply["response_type"] == "ephemeral" and reply["replace_original"] is False
    assert reply["text"].startswith(expected)
    session.expire_all()
    assert session.get(Referral, registration.id).status == "submitted"


def test_a_second_press_says_the_registration_was_already_decided(client, registration):
    post(client, button_payload("U0MARIA", "registration.approve", registration.id))
    reply = post(client, button_payload("U0MARIA", "registration.reject", registration.id)).json()
    assert (
        reply["text"] == f"Nothing changed: referral #{registration.id} is approved, not waiting for review."
    )


def test_without_a_signing_secret_nothing_is_accepted(client, app, registration):
    app.state.settings = app.state.settings.model_copy(update={"slack_signing_secret": ""})
    response = post(client, button_payload("U0MARIA", "registration.approve", registration.id))
    assert response.status_code == 403 and "ECOOPS_SLACK_SIGNING_SECRET" in response.text
