"""Kill `ecoops worker` with SIGKILL at random points until everything is delivered: nothing is lost,
and a message sent twice (killed between the receiver's answer and our commit) carries the same id."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ecoops.automation.deliveries import Channel, Delivery, DeliveryStatus
from ecoops.db import make_engine, migrate, session_factory
from tests.automation.delivery.conftest import SECRET
from tests.automation.delivery.helpers import add_deliveries, add_endpoint
from tests.automation.delivery.standins import StandIn, start_smtp
from tests.conftest import fresh_postgres_database

pytestmark = pytest.mark.all_backends

WEBHOOKS, EMAILS = 170, 50
KILLS = 3
ECOOPS = str(Path(sys.executable).parent / "ecoops")


@pytest.fixture
def crash_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'crash.db'}"
    return fresh_postgres_database(request.getfixturevalue("postgres_admin_url"))


def delivered(factory) -> int:
    with factory() as session:
        return session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.status == DeliveryStatus.DELIVERED.value)
        )


def received(receiver: StandIn, inbox) -> list[str]:
    """The ids of complete, verified requests (one cut short by a kill fails verification and is refused)."""
    with receiver.lock:
        hooks = [
            r.headers["webhook-id"] for r, ok in zip(receiver.requests, receiver.verified, strict=True) if ok
        ]
    return hooks + [m["X-Ecoops-Delivery"] for m in list(inbox.messages)]


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen([ECOOPS, "worker", "--concurrency", "2"], env=env, stdout=out, stderr=out)


def test_sigkilled_workers_lose_nothing_and_duplicates_keep_their_id(crash_url, backend, tmp_path):
    rng = random.Random()
    engine = make_engine(crash_url)
    migrate(engine)
    factory = session_factory(engine)
    receiver = StandIn(secret=SECRET, delay=0.02)
    smtp, inbox = start_smtp()
    try:
        endpoint = add_endpoint(factory, receiver.url + "/in")
        uids = add_deliveries(factory, Channel.WEBHOOK, [endpoint] * WEBHOOKS)
        uids += add_deliveries(factory, Channel.EMAIL, [f"p{n}@example.com" for n in range(EMAILS)])
        env = {
            **os.environ,
            "ECOOPS_ENV": "test",
            "ECOOPS_DATABASE_URL": crash_url,
            "ECOOPS_SMTP_HOST": "127.0.0.1",
            "ECOOPS_SMTP_PORT": str(smtp.port),
            "ECOOPS_MAIL_FROM": "ecoops@example.com",
            "ECOOPS_DELIVERY_LEASE_SECONDS": "2",  # a killed worker's claims come back quickly
            "ECOOPS_DELIVERY_MAX_ATTEMPTS": "1000",  # kills are not failures worth giving up over
            "ECOOPS_WORKER_POLL_SECONDS": "0.1",
            "ECOOPS_WORKER_BATCH": "10",
        }
        log = tmp_path / "worker.log"
        workers = 2 if backend == "postgresql" else 1  # several processes share the work on PostgreSQL
        kills_mid_work = 0
        for _ in range(KILLS):
            seen = len(received(receiver, inbox))
            processes = [start_worker(env, log) for _ in range(workers)]
            deadline = time.monotonic() + 20
            while len(received(receiver, inbox)) == seen and time.monotonic() < deadline:
                time.sleep(0.02)  # until the workers are sending
            for process in processes:
                time.sleep(rng.uniform(0.0, 0.4))
                process.send_signal(signal.SIGKILL)
            for process in processes:
                process.wait()
            kills_mid_work += delivered(factory) < len(uids)
        # Then let workers finish, and stop them the polite way.
        processes = [start_worker(env, log) for _ in range(workers)]
        deadline = time.monotonic() + 40
        while delivered(factory) < len(uids) and time.monotonic() < deadline:
            time.sleep(0.1)
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            assert process.wait(timeout=20) == 0, log.read_text()[-3000:]
    finally:
        receiver.close()
        smtp.stop()

    assert delivered(factory) == len(uids) == WEBHOOKS + EMAILS, log.read_text()[-3000:]
    arrived = Counter(received(receiver, inbox))
    assert set(arrived) == set(uids)  # every committed delivery arrived, nothing else did
    duplicates = {uid: n for uid, n in arrived.items() if n > 1}
    assert kills_mid_work >= KILLS - 1  # the kills fell while there was work in hand
    print(
        f"\n{backend}: {len(uids)} deliveries, {KILLS} SIGKILLs x {workers} worker(s) while sending; "
        f"{sum(arrived.values())} requests, {len(duplicates)} ids sent more than once (same id each time), "
        f"{receiver.verified.count(False)} cut short by a kill"
    )
    engine.dispose()
