"""Fixtures for delivery tests: a committed database per backend (the worker commits), and the stand-ins."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session, sessionmaker

from ecoops.automation.deliveries import Delivery
from ecoops.automation.endpoints import WebhookEndpoint
from ecoops.automation.throttle import DeliveryThrottle
from ecoops.config import Settings
from ecoops.db import make_engine, migrate, session_factory
from ecoops.events.models import Event
from tests.automation.delivery.standins import Inbox, StandIn, start_smtp
from tests.conftest import fresh_postgres_database

SECRET = "whsec_" + "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"  # base64 of "secret-secret-secret-secret"


@pytest.fixture(scope="session")
def committed_engines(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[dict]:
    """Engines whose commits are real (the worker's transactions), one per backend, made on first use."""
    made: dict[str, Engine] = {}

    class Lazy(dict):
        def __missing__(self, backend: str) -> Engine:
            if backend == "sqlite":
                url = f"sqlite:///{tmp_path_factory.mktemp('delivery') / 'delivery.db'}"
            else:
                url = fresh_postgres_database(request.getfixturevalue("postgres_admin_url"))
            engine = make_engine(url)
            migrate(engine)
            made[backend] = self[backend] = engine
            return engine

    yield Lazy()
    for engine in made.values():
        engine.dispose()


@pytest.fixture
def db(committed_engines: dict, backend: str) -> Iterator[sessionmaker[Session]]:
    """A session factory on a committed database; deliveries, endpoints, throttles and events go after."""
    engine = committed_engines[backend]
    yield session_factory(engine)
    with engine.begin() as connection:
        for table in (Delivery, WebhookEndpoint, DeliveryThrottle, Event):
            connection.execute(delete(table))


@pytest.fixture
def slack() -> Iterator[StandIn]:
    server = StandIn()
    yield server
    server.close()


@pytest.fixture
def receiver() -> Iterator[StandIn]:
    server = StandIn(secret=SECRET)
    yield server
    server.close()


@pytest.fixture
def smtp() -> Iterator[tuple[int, Inbox]]:
    controller, inbox = start_smtp()
    yield controller.port, inbox
    controller.stop()


@pytest.fixture
def delivery_settings(tmp_path: Path, slack: StandIn, smtp: tuple[int, Inbox]) -> Settings:
    return Settings(
        env="test",
        var_dir=tmp_path / "var",
        secret_key="t" * 40,
        slack_bot_token="xoxb-test",
        slack_api_url=slack.url + "/api/",
        smtp_host="127.0.0.1",
        smtp_port=smtp[0],
        mail_from="ecoops@example.com",
        webhook_allow_private=False,
        delivery_backoff_seconds=0,
        delivery_max_attempts=3,
        slack_min_interval=0,
        delivery_timeout=5,
    )
