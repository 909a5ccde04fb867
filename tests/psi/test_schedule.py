"""The worker's tick job starts the runs of connections whose scheduled time has come, once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from tests.psi.conftest import Instance, connect, wait_for_exchanges

from ecoops.audit import utcnow
from ecoops.automation.jobs import TICK_JOBS
from ecoops.db import transaction
from ecoops.psi.exchange import start_due_exchanges
from ecoops.psi.models import PsiConnection


def test_a_due_connection_is_run_by_the_worker_and_not_started_twice(pair: tuple[Instance, Instance]) -> None:
    alpha, beta = pair
    assert start_due_exchanges in TICK_JOBS
    connect(alpha, beta)
    now = utcnow()
    with transaction(alpha.sessions) as session:
        assert start_due_exchanges(session, alpha.settings, now) == 0  # set up with interval 0: by hand only
        connection = session.scalars(select(PsiConnection)).one()
        connection.interval_hours, connection.next_exchange_at = 6, now - timedelta(minutes=1)
    with transaction(alpha.sessions) as session:
        assert start_due_exchanges(session, alpha.settings, now) == 1
        assert start_due_exchanges(session, alpha.settings, now) == 0  # its next time moved on
    finished = wait_for_exchanges(alpha, 2)
    assert [(e.role, e.mode, e.status) for e in finished] == [
        ("initiator", "count", "done"),
        ("initiator", "reveal", "done"),
    ]
    wait_for_exchanges(beta, 2)
    with alpha.sessions() as session:
        connection = session.scalars(select(PsiConnection)).one()
        assert connection.next_exchange_at is not None
        assert connection.next_exchange_at.replace(tzinfo=None) > (now + timedelta(hours=5)).replace(
            tzinfo=None
        )
