"""The delivery pages: log filters, dead letters retried from the UI, endpoints with a secret shown once."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ecoops.actors import Role
from ecoops.audit import AuditEvent
from ecoops.automation.deliveries import Channel, Delivery, DeliveryStatus, enqueue
from ecoops.automation.endpoints import WebhookEndpoint
from ecoops.automation.messages import Message
from tests.factories import csrf_from, make_user, sign_in

pytestmark = pytest.mark.all_backends


def delivery(
    session, *, status=DeliveryStatus.PENDING, channel=Channel.EMAIL, recipient="user:1", rule_id=None, n=0
):
    row = enqueue(
        session,
        channel=channel,
        target=f"t{n}@example.com",
        message=Message(subject=f"Subject {n}", text="x"),
        recipient=recipient,
        source="rule" if rule_id else "manual",
        rule_id=rule_id,
        source_ref=f"page-test:{n}",
    )
    row.status = status.value
    row.attempts = 3 if status == DeliveryStatus.DEAD else 0
    row.last_error = "HTTP 500: boom" if status == DeliveryStatus.DEAD else ""
    session.flush()
    return row


def test_the_log_filters_by_rule_recipient_channel_and_status(client, session):
    delivery(session, recipient="user:7", rule_id=11, n=1)
    delivery(session, recipient="partner:3", rule_id=12, n=2, channel=Channel.SLACK)
    delivery(session, recipient="user:7", rule_id=12, n=3, status=DeliveryStatus.DEAD)
    sign_in(client, make_user(session, Role.PARTNER_MANAGER).email)

    def subjects(query: str) -> set[str]:
        page = client.get(f"/automation/deliveries?{query}")
        assert page.status_code == 200
        return {s for s in ("Subject 1", "Subject 2", "Subject 3") if s in page.text}

    assert subjects("") == {"Subject 1", "Subject 2", "Subject 3"}
    assert subjects("rule=12") == {"Subject 2", "Subject 3"}
    assert subjects("recipient=user:7") == {"Subject 1", "Subject 3"}
    assert subjects("channel=slack") == {"Subject 2"}
    assert subjects("status=dead") == {"Subject 3"}
    assert subjects("rule=12&recipient=user:7&status=dead") == {"Subject 3"}
    assert subjects("status=nonsense") == {
        "Subject 1",
        "Subject 2",
        "Subject 3",
    }  # unknown values filter nothing


def test_the_log_is_paginated(client, session, settings):
    for n in range(settings.page_size + 3):
        delivery(session, n=n)
    sign_in(client, make_user(session, Role.ADMIN).email)
    first = client.get("/automation/deliveries").text
    assert f"{settings.page_size + 3} results" in first
    assert "page 1 of 2" in first
    second = client.get("/automation/deliveries?page=2").text
    assert second.count("<tr><td title=") == 3


def test_a_dead_letter_is_retried_from_the_page_with_its_attempts_reset(client, session):
    dead = delivery(session, status=DeliveryStatus.DEAD, n=1)
    alive = delivery(session, n=2)
    sign_in(client, make_user(session, Role.OPS).email)
    page = client.get("/automation/deliveries/dead")
    assert "Subject 1" in page.text and "Subject 2" not in page.text
    assert "HTTP 500: boom" in page.text

    response = client.post(
        f"/automation/deliveries/{dead.id}/retry", data={"csrf_token": csrf_from(page.text)}
    )
    assert response.status_code == 303
    session.refresh(dead)
    assert (dead.status, dead.attempts) == ("pending", 0)
    assert dead.uid == session.get(Delivery, dead.id).uid  # the same idempotency id goes out again
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "delivery.retried")) is not None
    # Only dead deliveries can be retried.
    again = client.post(f"/automation/deliveries/{alive.id}/retry", data={"csrf_token": csrf_from(page.text)})
    assert again.status_code == 404


def test_retry_all_requeues_every_dead_letter_of_the_chosen_channel(client, session):
    mails = [delivery(session, status=DeliveryStatus.DEAD, n=n) for n in range(3)]
    slack = delivery(session, status=DeliveryStatus.DEAD, channel=Channel.SLACK, n=9)
    sign_in(client, make_user(session, Role.ADMIN).email)
    token = csrf_from(client.get("/automation/deliveries/dead").text)
    response = client.post(
        "/automation/deliveries/retry-dead", data={"csrf_token": token, "channel": "email"}
    )
    assert response.status_code == 303
    for row in [*mails, slack]:
        session.refresh(row)
    assert [m.status for m in mails] == ["pending"] * 3
    assert slack.status == "dead"
    client.post("/automation/deliveries/retry-dead", data={"csrf_token": token})
    session.refresh(slack)
    assert slack.status == "pending"


def test_a_new_webhook_endpoint_shows_its_secret_once(client, session):
    sign_in(client, make_user(session, Role.PARTNER_MANAGER).email)
    token = csrf_from(client.get("/automation/webhooks").text)
    created = client.post(
        "/automation/webhooks",
        data={"csrf_token": token, "name": "CRM sync", "url": "https://hooks.example.com/x"},
    )
    assert created.status_code == 200
    endpoint = session.scalar(select(WebhookEndpoint).where(WebhookEndpoint.name == "CRM sync"))
    assert endpoint.secret.startswith("whsec_")
    assert endpoint.secret in created.text
    assert "shown only this once" in created.text
    assert endpoint.secret not in client.get("/automation/webhooks").text
    assert not endpoint.allow_private


def test_bad_endpoint_urls_are_refused_with_a_reason(client, session):
    sign_in(client, make_user(session, Role.ADMIN).email)
    token = csrf_from(client.get("/automation/webhooks").text)
    response = client.post(
        "/automation/webhooks",
        data={"csrf_token": token, "name": "x", "url": "ftp://example.com"},
        follow_redirects=True,
    )
    assert "the URL must be an http(s) address" in response.text
    assert session.scalar(select(WebhookEndpoint)) is None


def test_only_admins_let_an_endpoint_reach_private_addresses(client, session):
    endpoint = WebhookEndpoint(
        name="lan", url="http://10.0.0.5/hook", secret="whsec_eA==", disabled_reason=""
    )
    endpoint.last_error = ""
    session.add(endpoint)
    session.flush()
    sign_in(client, make_user(session, Role.OPS).email)
    page = client.get("/automation/webhooks")
    assert "may reach private addresses" not in page.text
    refused = client.post(
        f"/automation/webhooks/{endpoint.id}/allow-private",
        data={"csrf_token": csrf_from(page.text), "allow": "true"},
    )
    assert refused.status_code == 403
    client.post("/logout", data={"csrf_token": csrf_from(page.text)})
    sign_in(client, make_user(session, Role.ADMIN).email)
    token = csrf_from(client.get("/automation/webhooks").text)
    allowed = client.post(
        f"/automation/webhooks/{endpoint.id}/allow-private", data={"csrf_token": token, "allow": "true"}
    )
    assert allowed.status_code == 303
    session.refresh(endpoint)
    assert endpoint.allow_private


def test_a_disabled_endpoint_shows_why_and_can_be_enabled_again(client, session):
    endpoint = WebhookEndpoint(
        name="gone",
        url="https://hooks.example.com/gone",
        secret="whsec_eA==",
        enabled=False,
        disabled_reason="the receiver answered 410 Gone on 2026-11-25 01:00 UTC",
        last_status=410,
    )
    endpoint.last_error = "HTTP 410: gone"
    session.add(endpoint)
    session.flush()
    sign_in(client, make_user(session, Role.ADMIN).email)
    page = client.get("/automation/webhooks")
    assert "the receiver answered 410 Gone" in page.text
    response = client.post(
        f"/automation/webhooks/{endpoint.id}/enabled",
        data={"csrf_token": csrf_from(page.text), "enabled": "true"},
    )
    assert response.status_code == 303
    session.refresh(endpoint)
    assert endpoint.enabled and endpoint.disabled_reason == ""
