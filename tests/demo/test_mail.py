"""The demo's mail catcher: `ecoops serve --demo` points e-mail and Slack at a local catcher (a real
aiosmtpd server and a webhook stand-in), the worker delivers to it with no dead letters, and admins read
what it caught at /demo/mail. Outside demo mode the pages do not exist."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ecoops.actors import Role
from ecoops.automation.deliveries import Channel, Delivery, DeliveryStatus, enqueue
from ecoops.automation.messages import Message
from ecoops.automation.worker import Worker
from ecoops.config import Settings
from ecoops.demo.catcher import running_catchers
from ecoops.demo.serve import demo_environment
from tests.factories import make_user, sign_in


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """The settings `ecoops serve --demo` gives the app, with its catchers running."""
    with running_catchers(tmp_path / "var") as catchers:
        for name, value in demo_environment(8000, catchers, environ={}).items():
            monkeypatch.setenv(name, value)
        yield Settings(env="test", var_dir=tmp_path / "var", secret_key="d" * 40)


def _send(session: Session, sessions: sessionmaker[Session], settings: Settings, subjects: list[str]) -> None:
    """Queue one e-mail and one Slack message per subject, as rules would, and run the worker once."""
    for subject in subjects:
        message = Message(
            subject=subject, text=f"{subject}: body text", link="http://127.0.0.1:8000/partners"
        )
        for channel, target in ((Channel.EMAIL, "owner@fernhill.example"), (Channel.SLACK, "U0DEMO001")):
            enqueue(
                session,
                channel=channel,
                target=target,
                message=message,
                recipient=target,
                source="test",
                source_ref=subject,
            )
    session.flush()
    worker, deadline = Worker(sessions, settings), time.monotonic() + 10
    # Slack's throttle (one message a second per channel) holds the second message back a moment.
    while worker.run(once=True) or session.scalar(select(Delivery).where(Delivery.status == "pending")):
        assert time.monotonic() < deadline, "deliveries still waiting"
        session.expire_all()
        time.sleep(0.2)


def test_the_demo_settings_point_at_the_catchers_and_name_the_cookie_by_port(settings: Settings) -> None:
    assert settings.demo and settings.smtp_host == "127.0.0.1" and settings.smtp_port != 25
    assert settings.slack_webhook_url.startswith("http://127.0.0.1:") and not settings.slack_bot_token
    assert settings.session_cookie == "ecoops_session_8000"
    assert settings.public_url == "http://127.0.0.1:8000" and settings.psi_allow_http_loopback


def test_mail_sent_by_the_demo_is_caught_and_shown_newest_first_with_no_dead_letter(
    settings: Settings, session: Session, sessions: sessionmaker[Session], client: TestClient
) -> None:
    _send(session, sessions, settings, ["First overlap", "Second overlap"])
    statuses = [d.status for d in session.scalars(select(Delivery))]
    assert statuses == [DeliveryStatus.DELIVERED.value] * 4, statuses  # none dead, none waiting for a retry

    sign_in(client, make_user(session, Role.ADMIN).email)
    page = client.get("/demo/mail")
    assert page.status_code == 200
    assert client.cookies.get("ecoops_session_8000")  # the demo's cookie name
    subjects = [line for line in page.text.splitlines() if "overlap" in line and "/demo/mail/" in line]
    assert len(subjects) == 4, page.text
    assert "Slack: " in page.text and "owner@fernhill.example" in page.text
    assert page.text.index("Second overlap") < page.text.index("First overlap")  # newest first

    link = page.text.split('href="/demo/mail/', 1)[1].split('"', 1)[0]
    opened = client.get(f"/demo/mail/{link}")
    assert opened.status_code == 200 and "body text" in opened.text
    assert client.get("/demo/mail/no-such-message").status_code == 404


def test_the_list_is_paged(
    settings: Settings, session: Session, sessions: sessionmaker[Session], client: TestClient
) -> None:
    client.app.state.settings = settings.model_copy(update={"page_size": 3})  # type: ignore[attr-defined]
    _send(session, sessions, settings, ["One", "Two"])
    sign_in(client, make_user(session, Role.ADMIN).email)
    first, second = client.get("/demo/mail").text, client.get("/demo/mail?page=2").text
    assert "4 results · page 1 of 2" in first and "page 2 of 2" in second
    assert first.count('href="/demo/mail/') == 3 and second.count('href="/demo/mail/') == 1


@pytest.mark.parametrize("role", [r for r in Role if r != Role.ADMIN])
def test_other_roles_are_refused(
    settings: Settings, session: Session, client: TestClient, role: Role
) -> None:
    sign_in(client, make_user(session, role).email)
    assert client.get("/demo/mail").status_code == 403
    assert "/demo/mail" not in client.get("/account/password").text  # not in the menu either


def test_outside_demo_mode_the_pages_are_not_found(session: Session, client: TestClient) -> None:
    client.app.state.settings = client.app.state.settings.model_copy(update={"demo": False})  # type: ignore[attr-defined]
    sign_in(client, make_user(session, Role.ADMIN).email)
    assert client.get("/demo/mail").status_code == 404
    assert client.get("/demo/mail/anything").status_code == 404
    assert "/demo/mail" not in client.get("/account/password").text
