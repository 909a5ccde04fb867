"""/healthz answers while the process runs, whatever the database; /readyz only when it can serve."""

import socket
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from ecoops import db
from ecoops.config import Settings
from ecoops.db import make_engine, migrate
from ecoops.web.app import create_app


def _client(tmp_path: Path, url: str) -> TestClient:
    settings = Settings(env="test", var_dir=tmp_path / "var", secret_key="p" * 40)
    return TestClient(create_app(settings, make_engine(url)))


def test_ready_when_migrated(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ready.db'}"
    migrate(make_engine(url))
    with _client(tmp_path, url) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz")
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
    assert ready.headers["cache-control"] == "no-store"


def test_database_unreachable_is_503_with_a_reason_and_health_stays_ok(tmp_path: Path) -> None:
    # Port 1 on loopback: nothing listens, the connection is refused at once.
    url = "postgresql://ecoops:secret@127.0.0.1:1/ecoops?connect_timeout=2"
    with _client(tmp_path, url) as client:
        ready = client.get("/readyz")
        health = client.get("/healthz")
    assert ready.status_code == 503
    assert ready.json()["status"] == "unavailable"
    assert ready.json()["reason"].startswith("database unreachable")
    assert "secret" not in ready.text and "127.0.0.1" not in ready.text  # no connection details
    assert health.status_code == 200


def test_schema_behind_the_release_is_503_naming_the_command(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'behind.db'}"
    engine = make_engine(url)
    migrate(engine, "0001")
    with _client(tmp_path, url) as client:
        ready = client.get("/readyz")
    assert ready.status_code == 503
    assert "database schema at 0001" in ready.json()["reason"]
    assert "ecoops db upgrade" in ready.json()["reason"]


def test_empty_database_is_503(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    with make_engine(url).begin() as connection:  # a database, but no schema
        connection.execute(text("CREATE TABLE unrelated (x INTEGER)"))
    with _client(tmp_path, url) as client:
        ready = client.get("/readyz")
    assert ready.status_code == 503
    assert "database schema missing" in ready.json()["reason"]


def test_a_database_that_never_answers_is_503_within_the_connect_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A socket that listens but never speaks: the kernel completes the handshake, then silence.
    monkeypatch.setattr(db, "CONNECT_TIMEOUT_SECONDS", 1)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"postgresql://ecoops:secret@127.0.0.1:{silent.getsockname()[1]}/ecoops"
        with _client(tmp_path, url) as client:
            started = time.monotonic()
            ready = client.get("/readyz")
            waited = time.monotonic() - started
    assert ready.status_code == 503 and ready.json()["reason"].startswith("database unreachable")
    assert waited < 30  # not the driver's default of waiting for ever
