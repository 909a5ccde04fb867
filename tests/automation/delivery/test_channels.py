"""Each channel against a real local stand-in: what arrives, and which failures are worth a retry."""

from __future__ import annotations

import socket

import pytest
from standardwebhooks import Webhook

from ecoops.automation.channels import email, webhook
from ecoops.automation.channels import slack as slack_channel
from ecoops.automation.channels.addresses import AddressRefused, check_url
from ecoops.automation.channels.base import (
    EndpointGone,
    Outgoing,
    PermanentError,
    RetryableError,
    WebhookTarget,
)
from ecoops.automation.messages import Button, Message
from tests.automation.delivery.conftest import SECRET
from tests.automation.delivery.standins import Answer

MESSAGE = Message(
    subject="Registration to review",
    text="Partner 1 registered Acme (50,000 USD)",
    link="http://ecoops.test/referrals/7",
    buttons=(
        Button("Approve", "registration.approve", "7", style="primary"),
        Button("Reject", "registration.reject", "7", style="danger"),
    ),
    mention="U024BE7LH",
)


def test_slack_bot_posts_block_kit_with_buttons_mention_fallback_and_the_uid(slack, delivery_settings):
    slack_channel.send(Outgoing(uid="dlv_abc", target="C0SALES", message=MESSAGE), delivery_settings)

    [post] = slack.posts_to("/api/chat.postMessage")
    body = post.json()
    assert post.headers["authorization"] == "Bearer xoxb-test"
    assert body["channel"] == "C0SALES"
    assert body["text"].startswith("<@U024BE7LH> Partner 1 registered Acme")  # the notification fallback
    header, section, actions = body["blocks"]
    assert header["text"]["text"] == "Registration to review"
    assert section["text"]["text"].startswith("<@U024BE7LH> Partner 1 registered Acme")
    assert "<http://ecoops.test/referrals/7|Open in ecoops>" in section["text"]["text"]
    approve, reject = actions["elements"]
    assert (approve["action_id"], approve["value"], approve["style"]) == (
        "registration.approve",
        "7",
        "primary",
    )
    assert (reject["action_id"], reject["value"], reject["style"]) == ("registration.reject", "7", "danger")
    assert body["metadata"] == {"event_type": "ecoops_delivery", "event_payload": {"delivery_uid": "dlv_abc"}}


def test_an_email_mention_is_looked_up_and_given_blocks_are_sent_as_they_are(slack, delivery_settings):
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "custom"}}]
    message = Message(subject="", text="Overlap", blocks=blocks, mention="owner@example.com")
    slack_channel.send(Outgoing(uid="dlv_1", target="C1", message=message), delivery_settings)
    post = slack.posts_to("/api/chat.postMessage")[0].json()
    assert post["blocks"] == blocks
    assert post["text"] == "<@U0OWNER> Overlap"  # users.lookupByEmail answered U0OWNER
    assert slack.posts_to("/api/users.lookupByEmail")


def test_slack_incoming_webhook_gets_text_blocks_and_the_uid(slack, delivery_settings):
    settings = delivery_settings.model_copy(
        update={"slack_bot_token": "", "slack_webhook_url": slack.url + "/hook"}
    )
    slack_channel.send(Outgoing(uid="dlv_2", target="C0SALES", message=MESSAGE), settings)
    [post] = slack.posts_to("/hook")
    body = post.json()
    assert "authorization" not in post.headers
    assert body["text"].startswith("<@U024BE7LH>")
    assert body["blocks"][2]["elements"][0]["action_id"] == "registration.approve"
    assert body["metadata"]["event_payload"]["delivery_uid"] == "dlv_2"


def test_slack_rate_limit_and_server_errors_are_retryable_bad_channels_are_not(slack, delivery_settings):
    out = Outgoing(uid="dlv_3", target="C1", message=Message(subject="", text="x"))
    slack.answer(Answer(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "7"}))
    with pytest.raises(RetryableError) as limited:
        slack_channel.send(out, delivery_settings)
    assert limited.value.retry_after == 7.0
    slack.answer(Answer(500, {"ok": False, "error": "internal_error"}))
    with pytest.raises(RetryableError):
        slack_channel.send(out, delivery_settings)
    slack.answer(Answer(200, {"ok": False, "error": "channel_not_found"}))
    with pytest.raises(PermanentError, match="channel_not_found"):
        slack_channel.send(out, delivery_settings)


def test_slack_webhook_410_is_permanent_but_not_an_endpoint_to_disable(slack, delivery_settings):
    out = Outgoing(uid="dlv_4", target=slack.url + "/hook", message=Message(subject="", text="x"))
    slack.answer(Answer(410, "channel_is_archived"))
    with pytest.raises(PermanentError) as gone:
        slack_channel.send(out, delivery_settings)
    assert not isinstance(gone.value, EndpointGone)
    slack.answer(Answer(503, "busy", {"Retry-After": "3"}))
    with pytest.raises(RetryableError) as busy:
        slack_channel.send(out, delivery_settings)
    assert busy.value.retry_after == 3.0


def test_slack_unconfigured_is_a_clear_permanent_error(delivery_settings):
    settings = delivery_settings.model_copy(update={"slack_bot_token": ""})
    with pytest.raises(PermanentError, match="ECOOPS_SLACK_BOT_TOKEN"):
        slack_channel.send(Outgoing(uid="d", target="C1", message=MESSAGE), settings)


def test_email_has_text_and_html_parts_links_for_buttons_and_a_message_id_from_the_uid(
    smtp, delivery_settings
):
    _, inbox = smtp
    email.send(Outgoing(uid="dlv_mail", target="pm@example.com", message=MESSAGE), delivery_settings)
    [mail] = inbox.messages
    assert inbox.envelopes == [("ecoops@example.com", ["pm@example.com"])]
    assert mail["Message-ID"] == "<dlv_mail@example.com>"
    assert mail["X-Ecoops-Delivery"] == "dlv_mail"
    assert mail["Subject"] == "Registration to review"
    assert mail["From"] == "ecoops@example.com"
    assert mail.get_content_type() == "multipart/alternative"
    text, html = mail.get_payload()
    assert text.get_content_type() == "text/plain"
    assert html.get_content_type() == "text/html"
    assert "Partner 1 registered Acme" in text.get_payload(decode=True).decode()
    assert "Approve: http://ecoops.test/referrals/7" in text.get_payload(decode=True).decode()
    assert '<a href="http://ecoops.test/referrals/7">Approve</a>' in html.get_payload(decode=True).decode()


def test_email_html_is_escaped_when_derived_from_text(smtp, delivery_settings):
    _, inbox = smtp
    message = Message(subject="s", text="<script>x</script> & co")
    email.send(Outgoing(uid="d1", target="a@example.com", message=message), delivery_settings)
    html = inbox.messages[0].get_payload()[1].get_payload(decode=True).decode()
    assert "&lt;script&gt;x&lt;/script&gt; &amp; co" in html
    assert "<script>" not in html


def test_email_refusals_temporary_retry_permanent_do_not(smtp, delivery_settings):
    _, inbox = smtp
    out = Outgoing(uid="d2", target="nobody@example.com", message=MESSAGE)
    inbox.refuse_with = "451 4.3.0 try again later"
    with pytest.raises(RetryableError, match="451"):
        email.send(out, delivery_settings)
    inbox.refuse_with = "550 5.1.1 no such user"
    with pytest.raises(PermanentError, match="550"):
        email.send(out, delivery_settings)
    with pytest.raises(PermanentError, match="cannot address"):
        email.send(Outgoing(uid="d3", target="not an address", message=MESSAGE), delivery_settings)
    assert inbox.messages == []


def test_email_server_down_is_retryable(delivery_settings):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    settings = delivery_settings.model_copy(update={"smtp_port": closed_port})
    with pytest.raises(RetryableError, match="unreachable"):
        email.send(Outgoing(uid="d4", target="a@example.com", message=MESSAGE), settings)


def hook(receiver, *, allow_private=True, path="/hooks"):
    return WebhookTarget(url=receiver.url + path, secret=SECRET, allow_private=allow_private)


def test_webhook_is_signed_with_the_uid_as_webhook_id_and_verifies(receiver, delivery_settings):
    event = {"uid": "e-1", "kind": "overlap.began", "partner_id": 3}
    out = Outgoing(uid="dlv_hook", target="1", message=MESSAGE, event=event, endpoint=hook(receiver))
    webhook.send(out, delivery_settings)
    [request] = receiver.requests
    assert receiver.verified == [True]
    assert request.headers["webhook-id"] == "dlv_hook"
    body = Webhook(SECRET).verify(request.body, request.headers)  # an independent verification
    assert body["type"] == "overlap.began"
    assert body["data"]["delivery"] == "dlv_hook"
    assert body["data"]["event"] == event
    assert body["data"]["message"]["buttons"][0]["action_id"] == "registration.approve"


def test_a_tampered_webhook_body_fails_verification(receiver, delivery_settings):
    out = Outgoing(uid="dlv_t", target="1", message=MESSAGE, endpoint=hook(receiver))
    webhook.send(out, delivery_settings)
    request = receiver.requests[0]
    with pytest.raises(Exception, match="signature"):
        Webhook(SECRET).verify(request.body.replace(b"Acme", b"Acne"), request.headers)


@pytest.mark.parametrize(
    ("status", "error"),
    [(410, EndpointGone), (400, PermanentError), (429, RetryableError), (502, RetryableError)],
)
def test_webhook_answers_map_to_errors(receiver, delivery_settings, status, error):
    receiver.answer(Answer(status, "no"))
    with pytest.raises(error) as raised:
        webhook.send(
            Outgoing(uid="d", target="1", message=MESSAGE, endpoint=hook(receiver)), delivery_settings
        )
    assert type(raised.value) is error
    assert raised.value.status == status


def test_webhook_redirects_are_not_followed(receiver, delivery_settings):
    receiver.answer(Answer(307, "", {"Location": "http://169.254.169.254/latest/meta-data"}))
    with pytest.raises(PermanentError, match="307"):
        webhook.send(
            Outgoing(uid="d", target="1", message=MESSAGE, endpoint=hook(receiver)), delivery_settings
        )
    assert len(receiver.requests) == 1


def test_private_loopback_and_link_local_addresses_are_refused_before_any_request(
    receiver, delivery_settings
):
    out = Outgoing(uid="d", target="1", message=MESSAGE, endpoint=hook(receiver, allow_private=False))
    with pytest.raises(AddressRefused, match=r"127\.0\.0\.1"):
        webhook.send(out, delivery_settings)
    assert receiver.requests == []
    for url in (
        "http://localhost/x",
        "http://10.1.2.3/x",
        "http://169.254.169.254/x",
        "http://[::1]/x",
        "http://192.168.0.10/x",
        "http://[::ffff:127.0.0.1]/x",
        "http://0.0.0.0/x",
    ):
        with pytest.raises(AddressRefused):
            check_url(url, allow_private=False)
    check_url("http://10.1.2.3/x", allow_private=True)  # an admin allowed it


def test_every_resolved_address_counts(monkeypatch):
    def resolve(host, port, *args, **kwargs):  # a name with one public and one private address
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in ("93.184.215.14", "10.0.0.5")
        ]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    with pytest.raises(AddressRefused, match=r"10\.0\.0\.5"):
        check_url("https://hooks.example.com/x", allow_private=False)


def test_non_http_urls_are_refused():
    for url in ("ftp://example.com/x", "file:///etc/passwd", "http:///nohost"):
        with pytest.raises(PermanentError, match="not an http"):
            check_url(url, allow_private=True)


def test_the_private_address_setting_lets_tests_reach_a_local_receiver(receiver, delivery_settings):
    settings = delivery_settings.model_copy(update={"webhook_allow_private": True})
    webhook.send(
        Outgoing(uid="d", target="1", message=MESSAGE, endpoint=hook(receiver, allow_private=False)), settings
    )
    assert receiver.verified == [True]


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_email_logs_in_when_a_username_is_set_and_without_it_a_server_requiring_login_refuses(
    delivery_settings,
):
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    from tests.automation.delivery.standins import Inbox, free_port

    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        assert isinstance(auth_data, LoginPassword)
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"right")

    inbox = Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=authenticator,
        auth_require_tls=False,  # STARTTLS needs a certificate; the login itself is what is tested here
        auth_required=True,
    )
    controller.start()
    try:
        settings = delivery_settings.model_copy(
            update={"smtp_port": controller.port, "smtp_username": "ecoops", "smtp_password": "right"}
        )
        out = Outgoing(uid="dlv_auth", target="a@example.com", message=MESSAGE)
        email.send(out, settings)
        assert logins == [(b"ecoops", b"right")]
        assert [m["Message-ID"] for m in inbox.messages] == ["<dlv_auth@example.com>"]
        unauthenticated = settings.model_copy(update={"smtp_username": ""})
        with pytest.raises(PermanentError, match="530"):
            email.send(out, unauthenticated)
        assert len(inbox.messages) == 1
    finally:
        controller.stop()
