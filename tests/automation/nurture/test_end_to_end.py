"""Through the real worker (which commits) to a local SMTP server (aiosmtpd): the issue's "a nurture
sequence runs on a newly signed partner" (the welcome on day 0, the check-in a week later), and the
weekly digest reaching an account executive once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from ecoops.actors import SYSTEM, Role
from ecoops.automation.deliveries import Delivery
from ecoops.automation.worker import Worker
from ecoops.config import Settings
from ecoops.db import make_engine, migrate, session_factory, transaction
from ecoops.mapping.models import Match, PartnerAccount, PartnerUpload
from ecoops.partners import service as partners
from ecoops.partners.models import Partner
from tests.automation.delivery.standins import Inbox, start_smtp
from tests.automation.nurture.conftest import onboarding
from tests.conftest import fresh_postgres_database
from tests.factories import make_account, make_partner, make_partner_user, make_user

pytestmark = pytest.mark.all_backends
DAY = 86400.0


@pytest.fixture
def committed(backend: str, tmp_path, request: pytest.FixtureRequest) -> Iterator[sessionmaker[Session]]:
    """A database of its own whose commits are real: the worker commits each tick job and delivery."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'nurture.db'}"
    else:
        url = fresh_postgres_database(request.getfixturevalue("postgres_admin_url"))
    engine: Engine = make_engine(url)
    migrate(engine)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def smtp() -> Iterator[tuple[int, Inbox]]:
    controller, inbox = start_smtp()
    yield controller.port, inbox
    controller.stop()


def plain_text(mail) -> str:
    [part] = [p for p in mail.walk() if p.get_content_type() == "text/plain"]
    return part.get_payload(decode=True).decode()


def test_a_nurture_sequence_runs_on_a_newly_signed_partner(committed, smtp, tmp_path):
    port, inbox = smtp
    settings = Settings(
        env="test",
        var_dir=tmp_path,
        secret_key="t" * 40,
        smtp_host="127.0.0.1",
        smtp_port=port,
        mail_from="ecoops@example.com",
        digest_enabled=False,
        delivery_timeout=5,
    )
    started = time.time()
    today = datetime.fromtimestamp(started, UTC).date()
    with transaction(committed) as session:
        onboarding(session, enabled_at=datetime.fromtimestamp(started - DAY, UTC))
        manager = make_user(session, Role.PARTNER_MANAGER, name="Maria Manager", email="maria@example.com")
        partner = make_partner(
            session, name="Acme Cloud", owner_id=manager.id, stage="signed", stage_since=today
        )
        make_partner_user(session, partner, name="Pat Partner", email="pat@acme.example")
        partner_id = partner.id
    # The partner manager records the move into onboarding through the service, as the partner page does.
    with transaction(committed) as session:
        found = session.get(Partner, partner_id)
        partners.change_stage(session, SYSTEM, found, to="onboarding", on=today, today=today)

    offset = [0.0]
    worker = Worker(committed, settings, clock=lambda: time.time() + offset[0])
    worker.tick()
    assert [m["To"] for m in inbox.messages] == ["pat@acme.example"]
    assert inbox.messages[0]["Subject"] == "Welcome to the program, Acme Cloud"
    assert "Partner playbook: https://example.com/playbook" in plain_text(inbox.messages[0])

    worker.tick()  # the same day again: nothing new
    offset[0] = 7 * DAY + 60  # a week later
    worker.tick()
    assert [m["To"] for m in inbox.messages] == ["pat@acme.example", "maria@example.com"]
    assert inbox.messages[1]["Subject"] == "Check in with Acme Cloud"

    with committed() as session:
        statuses = session.scalars(select(Delivery.status).where(Delivery.source == "nurture")).all()
    assert statuses == ["delivered", "delivered"]


def test_the_weekly_digest_reaches_the_account_executive_once(committed, smtp, tmp_path):
    port, inbox = smtp
    # Monday 00:00 in the workspace zone: this week's digest is due whatever day the test runs.
    settings = Settings(
        env="test",
        var_dir=tmp_path,
        secret_key="t" * 40,
        smtp_host="127.0.0.1",
        smtp_port=port,
        mail_from="ecoops@example.com",
        digest_weekday=0,
        digest_hour=0,
        delivery_timeout=5,
    )
    with transaction(committed) as session:
        make_user(session, Role.SALES, name="Ana Seller", email="ana@example.com")
        make_account(session, crm_id="A1", name="Alder Robotics", owner="Ana Seller")
        partner = make_partner(session, name="Partner One")
        upload = PartnerUpload(partner_id=partner.id, filename="l.csv", sha256="0" * 64, is_current=True)
        session.add(upload)
        session.flush()
        session.add(PartnerAccount(upload_id=upload.id, line=1, their_id="T1", population="Customers"))
        session.add(Match(partner_id=partner.id, our_crm_id="A1", their_id="T1", method="domain", score=1.0))

    worker = Worker(committed, settings)
    worker.tick()
    worker.tick()

    assert [m["To"] for m in inbox.messages] == ["ana@example.com"]
    assert inbox.messages[0]["Subject"].endswith("1 overlap(s), 0 open referral(s)")
    assert "Alder Robotics with Partner One (their Customers)" in plain_text(inbox.messages[0])
