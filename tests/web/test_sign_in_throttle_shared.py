"""The sign-in throttle is kept in the database: two web processes (two apps, two engines) on one
database count one e-mail's failures together, also when the failures arrive at the same moment."""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ecoops.accounts.models import SignInFailure
from ecoops.actors import Role
from ecoops.config import Settings
from ecoops.db import make_engine, migrate, session_factory, transaction
from ecoops.web.app import create_app
from tests.conftest import fresh_postgres_database
from tests.factories import PASSWORD, csrf_from, make_user

EMAIL = "shared-throttle@example.com"


@pytest.fixture
def url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.db'}"
    return fresh_postgres_database(request.getfixturevalue("postgres_admin_url"))


@pytest.fixture
def two_processes(url: str, tmp_path: Path) -> Iterator[tuple[TestClient, TestClient]]:
    """Two apps as two web processes would be: each its own engine (pool), one database, one secret."""
    engines = [make_engine(url) for _ in range(2)]
    migrate(engines[0])
    with transaction(session_factory(engines[0])) as session:
        make_user(session, Role.VIEWER, email=EMAIL)
    settings = Settings(env="test", var_dir=tmp_path / "var", secret_key="s" * 40)
    with (
        TestClient(create_app(settings, engines[0]), follow_redirects=False) as first,
        TestClient(create_app(settings, engines[1]), follow_redirects=False) as second,
    ):
        yield first, second
    for engine in engines:
        engine.dispose()


def _attempt(client: TestClient, password: str) -> int:
    client.cookies.clear()  # a new browser each time: nothing but the database links the attempts
    token = csrf_from(client.get("/login").text)
    data = {"email": EMAIL, "password": password, "csrf_token": token}
    return client.post("/login", data=data).status_code


def _failures(url: str) -> int:
    engine = make_engine(url)
    with engine.connect() as connection:
        count = connection.scalar(
            select(func.count()).select_from(SignInFailure).where(SignInFailure.key == f"email:{EMAIL}")
        )
    engine.dispose()
    return count or 0


@pytest.mark.all_backends
def test_failures_on_two_processes_add_up(two_processes, url: str) -> None:
    first, second = two_processes
    assert [_attempt(client, "wrong password!") for client in (first, second, first, second)] == [401] * 4
    assert _attempt(first, PASSWORD) == 303  # four failures: still allowed, and forgiven by the success
    assert _failures(url) == 0
    outcomes = [_attempt(client, "wrong password!") for client in (first, second, first, second, first)]
    assert outcomes == [401] * 5
    # The fifth failure came through the first process; the second refuses the right password too.
    assert _attempt(second, PASSWORD) == 429
    assert _attempt(first, PASSWORD) == 429


@pytest.mark.all_backends
def test_failures_at_the_same_moment_on_two_processes_are_all_counted(two_processes, url: str) -> None:
    first, second = two_processes
    # Each client keeps its session cookie from this page; its requests below share it.
    tokens = {id(client): csrf_from(client.get("/login").text) for client in (first, second)}

    def fail(n: int) -> int:
        client = (first, second)[n % 2]
        data = {"email": EMAIL, "password": "wrong password!", "csrf_token": tokens[id(client)]}
        return client.post("/login", data=data).status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(fail, range(4)))
    assert outcomes == [401] * 4  # no clash between writers becomes a 500
    assert _failures(url) == 4  # each one counted, none lost to another's write
    assert _attempt(first, "wrong password!") == 401
    assert _attempt(second, PASSWORD) == 429
