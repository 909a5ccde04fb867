"""Report packs: the period due, the pack's figures, one send per schedule and period even with two
workers at once (both backends), and the e-mail with its PDF attachment."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecoops.actors import SYSTEM
from ecoops.automation.channels.base import Outgoing
from ecoops.automation.channels.email import build
from ecoops.automation.deliveries import Delivery
from ecoops.automation.jobs import TICK_JOBS
from ecoops.automation.messages import Message
from ecoops.config import Settings
from ecoops.db import make_engine, migrate
from ecoops.partners.programs import FieldError
from ecoops.reports import packs
from ecoops.reports.models import ReportPackSend
from tests.at_once import at_once
from tests.conftest import fresh_postgres_database
from tests.goals.scenario import seed
from tests.pdf_text import pdf_lines


def test_the_period_due_is_the_last_complete_week_or_month() -> None:
    sunday, monday = date(2025, 4, 6), date(2025, 4, 7)
    assert packs.last_complete("weekly", monday).key == "2025-W14"
    assert (
        packs.last_complete("weekly", monday).period.start,
        packs.last_complete("weekly", monday).period.end,
    ) == (
        date(2025, 3, 31),
        date(2025, 4, 6),
    )
    assert packs.last_complete("weekly", sunday).key == "2025-W13"  # its own week is not over
    assert packs.last_complete("monthly", date(2025, 4, 1)).key == "2025-03"
    assert packs.last_complete("monthly", date(2025, 3, 31)).key == "2025-02"
    assert packs.last_complete("monthly", date(2025, 1, 15)).period.start == date(2024, 12, 1)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"recipients": "cfo@example.com, not-an-address"}, "^recipients: 'not-an-address' is not an e-mail"),
        ({"recipients": " , "}, "^recipients: name at least one"),
        ({"cadence": "daily"}, "^cadence: must be one of weekly, monthly"),
        ({"audience": "board"}, "^audience: must be one of leadership, finance"),
        ({"name": ""}, "^name: give a name"),
    ],
)
def test_bad_schedules_are_refused_naming_the_field(
    session: Session, fields: dict[str, str], message: str
) -> None:
    given = {"name": "Monthly", "audience": "finance", "cadence": "monthly", "recipients": "cfo@example.com"}
    with pytest.raises(FieldError, match=message):
        packs.create_schedule(session, SYSTEM, **(given | fields))


def test_a_months_pack_is_enqueued_once_with_the_pdf(session: Session, settings: Settings) -> None:
    seed(session)
    packs.create_schedule(
        session,
        SYSTEM,
        name="Finance monthly",
        audience="finance",
        cadence="monthly",
        recipients="cfo@example.com; CFO@example.com, ops@example.com",
    )
    now = datetime(2025, 4, 1, 8, tzinfo=UTC)
    assert packs.send_report_packs(session, settings, now) == 2  # the same address twice counts once
    assert packs.send_report_packs(session, settings, now) == 0
    deliveries = session.scalars(
        select(Delivery).where(Delivery.source == "report_pack").order_by(Delivery.target)
    ).all()
    assert [d.target for d in deliveries] == ["cfo@example.com", "ops@example.com"]
    message = Message.from_json(deliveries[0].message)
    assert message.subject == "Finance monthly: 2025-03-01 to 2025-03-31"
    assert "Sourced revenue: 1,000.00 USD" in message.text
    assert "ROI on sourced gross profit: not defined" in message.text  # no cost entered
    mail = build(Outgoing(uid=deliveries[0].uid, target=deliveries[0].target, message=message), settings)
    (attachment,) = list(mail.iter_attachments())
    assert attachment.get_filename().endswith("2025-03.pdf")
    pdf = attachment.get_content()
    assert pdf == base64.b64decode(message.attachments[0]["data"])
    lines = pdf_lines(pdf)
    assert "Partner program report (finance)" in lines
    assert any("Influenced revenue" in line for line in lines)


def test_the_worker_ticks_send_packs_and_a_paused_schedule_sends_nothing(
    session: Session, settings: Settings
) -> None:
    assert packs.send_report_packs in TICK_JOBS
    schedule = packs.create_schedule(
        session, SYSTEM, name="Paused", audience="leadership", cadence="weekly", recipients="ceo@example.com"
    )
    packs.set_active(session, SYSTEM, schedule.id, False)
    assert packs.send_report_packs(session, settings, datetime(2025, 4, 7, 9, tzinfo=UTC)) == 0
    packs.set_active(session, SYSTEM, schedule.id, True)
    assert packs.send_report_packs(session, settings, datetime(2025, 4, 7, 9, tzinfo=UTC)) == 1
    assert [(s.period_key, s.starts_on, s.ends_on) for s in packs.sends(session, SYSTEM)] == [
        ("2025-W14", date(2025, 3, 31), date(2025, 4, 6))
    ]


@pytest.mark.all_backends
def test_two_workers_at_once_send_a_period_once(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'packs.db'}"
    else:
        url = fresh_postgres_database(request.getfixturevalue("postgres_admin_url"))
    engine = make_engine(url)
    migrate(engine)
    settings = Settings(env="test", var_dir=tmp_path / "var", secret_key="p" * 40)
    try:
        with Session(engine) as session:
            seed(session)
            packs.create_schedule(
                session,
                SYSTEM,
                name="Leadership weekly",
                audience="leadership",
                cadence="weekly",
                recipients="ceo@example.com, vp@example.com",
            )
            session.commit()

        def worker() -> int:
            with Session(engine) as session:
                sent = packs.send_report_packs(session, settings, datetime(2025, 4, 7, 9, tzinfo=UTC))
                session.commit()
                return sent

        assert sorted(at_once(worker, worker)) == [0, 2]
        with Session(engine) as session:
            assert session.scalar(select(func.count()).select_from(ReportPackSend)) == 1
            assert (
                session.scalar(
                    select(func.count()).select_from(Delivery).where(Delivery.source == "report_pack")
                )
                == 2
            )
    finally:
        engine.dispose()
