"""Shared fixtures: a migrated database per backend, and one rolled-back transaction per test.

Tests marked `all_backends` run on SQLite and on PostgreSQL; the others on SQLite only.
PostgreSQL is ECOOPS_TEST_DATABASE_URL when set, else a throwaway server the suite starts.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

# Rich sizes its consoles when the CLI modules are imported: give them a wide terminal before that,
# so CLI tests read whole lines whatever terminal (or none) the suite runs in.
os.environ["COLUMNS"] = "300"
# Settings made without a var dir (module-level ones) keep their generated secret in a throwaway
# folder, never in the checkout's var/ where the demo lives.
os.environ.setdefault("ECOOPS_VAR_DIR", tempfile.mkdtemp(prefix="ecoops-tests-"))

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from ecoops.config import Settings
from ecoops.db import make_engine, migrate
from ecoops.metrics import cache
from ecoops.web.app import create_app
from tests.pg_server import start_postgres

# Tests check correctness, never speed: no per-example time limit, which a busy machine would trip.
hypothesis_settings.register_profile("ecoops", deadline=None)
hypothesis_settings.load_profile("ecoops")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "all_backends: run the test on SQLite and on PostgreSQL")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        both = metafunc.definition.get_closest_marker("all_backends") is not None
        params = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)] if both else ["sqlite"]
        metafunc.parametrize("backend", params, scope="session")


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    given = os.environ.get("ECOOPS_TEST_DATABASE_URL")
    if given:
        yield given
        return
    server = start_postgres()
    try:
        yield server.url
    finally:
        server.stop()


def fresh_postgres_database(admin_url: str) -> str:
    """A new, empty database on the test server; its URL."""
    name = f"ecoops_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(
        admin_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return admin_url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="session")
def engines(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[dict[str, Engine]]:
    """Migrated engines, created on first use per backend and shared by the session."""
    created: dict[str, Engine] = {}

    class Lazy(dict[str, Engine]):
        def __missing__(self, backend: str) -> Engine:
            if backend == "sqlite":
                url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
            else:
                url = fresh_postgres_database(request.getfixturevalue("postgres_admin_url"))
            engine = make_engine(url)
            migrate(engine)
            created[backend] = self[backend] = engine
            return engine

    yield Lazy()
    for engine in created.values():
        engine.dispose()


@pytest.fixture
def backend() -> str:  # replaced by pytest_generate_tests; here for tests that do not ask
    return "sqlite"


@pytest.fixture
def engine(engines: dict[str, Engine], backend: str) -> Engine:
    return engines[backend]


@pytest.fixture
def committed_engine(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A fresh, migrated database of the test's backend whose commits are real: for several clients
    (threads, processes) at once, which the rolled-back `connection` cannot serve."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'committed.db'}"
    else:
        url = fresh_postgres_database(request.getfixturevalue("postgres_admin_url"))
    engine = make_engine(url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture(autouse=True)
def _empty_metrics_cache() -> None:
    """Each test starts with the dashboards' cache empty: tests roll their records back on the connection,
    which no session sees, so the next test's database can stand at the same data version."""
    for entries in (cache.INPUTS, cache.FIGURES, cache.RECORDS):
        entries.clear()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back after the test: nothing leaks between tests."""
    with engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        if transaction.is_active:
            transaction.rollback()


@pytest.fixture
def sessions(connection: Connection) -> sessionmaker[Session]:
    """Sessions whose commits become SAVEPOINT releases inside the test's transaction."""
    return sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with sessions() as session:
        yield session


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(env="test", var_dir=tmp_path / "var", secret_key="t" * 40)


@pytest.fixture
def app(settings: Settings, engine: Engine, sessions: sessionmaker[Session], session: Session) -> FastAPI:
    """The web app on the test's transaction; `session` is flushed so the app sees what tests added."""
    application = create_app(settings, engine)
    application.state.sessions = sessions
    return application


@pytest.fixture
def client(app: FastAPI, session: Session) -> Iterator[TestClient]:
    session.flush()
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as test_client:
        yield test_client
