"""Every request has an id: the caller's `X-Request-ID` or a new one, echoed, and on each of its log lines."""

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from ecoops.config import Settings
from ecoops.db import make_engine, migrate
from ecoops.ops import logs
from ecoops.web.app import create_app

SECRET = "l" * 40


def _settings(tmp_path: Path, **values: str) -> Settings:
    return Settings(env="test", var_dir=tmp_path / "var", secret_key=SECRET, **values)  # type: ignore[arg-type]


@pytest.fixture
def site(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[TestClient, io.StringIO]]:
    """The app, with a log handler in the format the test asks for (json by default) into a buffer."""
    settings = _settings(tmp_path, log_format=getattr(request, "param", "json"))
    engine = make_engine(f"sqlite:///{tmp_path / 'logs.db'}")
    migrate(engine)
    app = create_app(settings, engine)

    @app.get("/test-logs")
    def logs_something() -> dict[str, str]:  # sync: runs in a worker thread, as most routes do
        logging.getLogger("ecoops.test").warning("inside the handler", extra={"partner": 7})
        return {}

    @app.get("/test-fails")
    def fails() -> None:
        raise RuntimeError("a bug")

    buffer = io.StringIO()
    handler = logs.handler(settings, buffer)
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)  # setLevel, not the attribute: loggers cache whether a level is enabled
    try:
        with TestClient(app, follow_redirects=False, raise_server_exceptions=False) as client:
            yield client, buffer
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        engine.dispose()


def _lines(buffer: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_the_callers_id_is_echoed_and_on_every_line_of_its_request(site) -> None:
    client, buffer = site
    response = client.get("/test-logs", headers={"X-Request-ID": "lb-7f3a.91:2"})
    assert response.headers["x-request-id"] == "lb-7f3a.91:2"
    lines = [line for line in _lines(buffer) if line.get("request_id") == "lb-7f3a.91:2"]
    handler_line, access_line = lines
    assert handler_line["logger"] == "ecoops.test"
    assert handler_line["message"] == "inside the handler"
    assert (handler_line["level"], handler_line["partner"]) == ("warning", 7)
    assert access_line["logger"] == "ecoops.access"
    assert access_line["route"] == "/test-logs"
    assert (access_line["method"], access_line["status"]) == ("GET", 200)


def test_a_request_that_fails_is_logged_as_500_with_its_id(site) -> None:
    client, buffer = site
    assert client.get("/test-fails", headers={"X-Request-ID": "bug-1"}).status_code == 500
    (access,) = [line for line in _lines(buffer) if line["logger"] == "ecoops.access"]
    assert (access["request_id"], access["route"], access["status"]) == ("bug-1", "/test-fails", 500)


def test_without_an_id_each_request_gets_its_own(site) -> None:
    client, buffer = site
    first = client.get("/login").headers["x-request-id"]
    second = client.get("/login").headers["x-request-id"]
    assert len(first) == 32 and first != second
    assert [line["request_id"] for line in _lines(buffer) if line["logger"] == "ecoops.access"] == [
        first,
        second,
    ]


@pytest.mark.parametrize(
    "sent", ["two\nlines", "x" * 129, "spa ce", 'quo"te'], ids=["newline", "129 chars", "space", "quote"]
)
def test_an_unsafe_id_is_replaced(site, sent: str) -> None:
    client, _ = site
    echoed = client.get("/healthz", headers={"X-Request-ID": sent}).headers["x-request-id"]
    assert echoed != sent and len(echoed) == 32


def test_an_id_of_128_plain_characters_is_kept(site) -> None:
    client, _ = site
    assert client.get("/healthz", headers={"X-Request-ID": "a" * 128}).headers["x-request-id"] == "a" * 128


def test_probes_that_pass_are_not_logged_but_a_failing_page_is(site) -> None:
    client, buffer = site
    client.get("/healthz")
    client.get("/readyz")
    client.get("/metrics")  # 404: no token set
    paths = [line["path"] for line in _lines(buffer) if line["logger"] == "ecoops.access"]
    assert paths == ["/metrics"]


@pytest.mark.parametrize("site", ["text"], indirect=True)
def test_text_lines_carry_the_id_too(site) -> None:
    client, buffer = site
    client.get("/login", headers={"X-Request-ID": "abc123"})
    (line,) = [line for line in buffer.getvalue().splitlines() if "ecoops.access" in line]
    assert " INFO ecoops.access [abc123]: GET /login 200 " in line


def test_outside_a_request_json_lines_have_no_id(tmp_path: Path) -> None:
    buffer = io.StringIO()
    record = logging.LogRecord("ecoops.worker", logging.INFO, __file__, 1, "tick %d", (3,), None)
    logs.handler(_settings(tmp_path, log_format="json"), buffer).handle(record)
    line = json.loads(buffer.getvalue())
    assert line["message"] == "tick 3" and "request_id" not in line


@pytest.mark.parametrize(
    ("env", "log_format", "json_logs"),
    [
        ("production", "auto", True),
        ("development", "auto", False),
        ("test", "auto", False),
        ("development", "JSON", True),
        ("production", " text ", False),
    ],
)
def test_format_follows_the_setting_and_auto_follows_the_environment(
    tmp_path: Path, env: str, log_format: str, json_logs: bool
) -> None:
    settings = Settings(env=env, var_dir=tmp_path, secret_key=SECRET, log_format=log_format)  # type: ignore[arg-type]
    assert settings.json_logs is json_logs


@pytest.mark.parametrize("log_format", ["prod", "jsonl", "plain", ""])
def test_an_unknown_format_is_refused_naming_the_setting(tmp_path: Path, log_format: str) -> None:
    with pytest.raises(ValidationError, match="ECOOPS_LOG_FORMAT must be one of auto, json, text"):
        Settings(env="test", var_dir=tmp_path, secret_key=SECRET, log_format=log_format)  # type: ignore[arg-type]


@pytest.fixture
def configured(tmp_path: Path) -> Iterator[io.StringIO]:
    """`logs.configure` as `ecoops serve` calls it, undone afterwards (it changes the process's logging)."""
    names = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "alembic.runtime.plugins")
    saved = {name: (logging.getLogger(name).handlers[:], logging.getLogger(name).propagate) for name in names}
    levels = {name: logging.getLogger(name).level for name in names}
    logs.configure(_settings(tmp_path, log_format="json"))
    buffer = io.StringIO()
    (handler,) = logging.getLogger().handlers
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(buffer)  # instead of stderr
    yield buffer
    for name, (handlers, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.propagate = propagate
        logger.setLevel(levels[name])


def test_configured_process_logs_uvicorn_once_and_without_colour(configured) -> None:
    logging.getLogger("uvicorn.error").info("Started", extra={"color_message": "\x1b[36mStarted\x1b[0m"})
    logging.getLogger("uvicorn.access").info('127.0.0.1 - "GET / HTTP/1.1" 200')
    logging.getLogger("alembic.runtime.plugins").info("setup plugin")
    logging.getLogger("alembic.runtime.migration").info("Running upgrade 0018 -> 0019")
    lines = [json.loads(line) for line in configured.getvalue().splitlines()]
    assert [(line["logger"], line["message"]) for line in lines] == [
        ("uvicorn.error", "Started"),
        ("alembic.runtime.migration", "Running upgrade 0018 -> 0019"),
    ]
    assert "color_message" not in lines[0]
