"""/metrics: hidden without its token; request latency by route template; queue and delivery figures
counted from the database at scrape time (hand-counted from the rows each test writes)."""

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from ecoops.audit import utcnow
from ecoops.automation.deliveries import Delivery
from ecoops.config import Settings
from ecoops.db import make_engine, migrate, session_factory, transaction
from ecoops.jobs.models import Job
from ecoops.jobs.names import EXCHANGE, MAPPING
from ecoops.ops.metrics import PROCESS
from ecoops.web.app import create_app
from tests.conftest import fresh_postgres_database

TOKEN = "m" * 40
LATENCY = "ecoops_http_request_duration_seconds"


@pytest.fixture
def db(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A database of the test's own: the endpoint reads committed rows through its own connections."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'metrics.db'}"
    else:
        url = fresh_postgres_database(request.getfixturevalue("postgres_admin_url"))
    engine = make_engine(url)
    migrate(engine)
    yield engine
    engine.dispose()


def _client(tmp_path: Path, engine: Engine, token: str = TOKEN) -> TestClient:
    settings = Settings(env="test", var_dir=tmp_path / "var", secret_key="k" * 40, metrics_token=token)
    return TestClient(create_app(settings, engine), follow_redirects=False)


def _scrape(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", headers={"authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_no_token_set_means_no_endpoint(tmp_path: Path, db: Engine) -> None:
    with _client(tmp_path, db, token="") as client:
        assert client.get("/metrics").status_code == 404
        assert client.get("/metrics", headers={"authorization": "Bearer "}).status_code == 404


@pytest.mark.parametrize(
    "authorization",
    [None, f"Bearer {TOKEN[:-1]}", f"Bearer {TOKEN}x", f"Basic {TOKEN}", TOKEN],
    ids=["none", "short", "long", "basic", "no-scheme"],
)
def test_wrong_or_missing_token_is_404(tmp_path: Path, db: Engine, authorization: str | None) -> None:
    headers = {"authorization": authorization} if authorization else {}
    with _client(tmp_path, db) as client:
        response = client.get("/metrics", headers=headers)
    assert response.status_code == 404
    assert LATENCY not in response.text


def test_a_short_token_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="ECOOPS_METRICS_TOKEN must be a random value of 32"):
        Settings(env="test", secret_key="k" * 40, metrics_token="t" * 31)
    assert Settings(env="test", secret_key="k" * 40, metrics_token="t" * 32).metrics_token == "t" * 32


def test_a_request_counts_under_its_route_template_not_its_path(tmp_path: Path, db: Engine) -> None:
    labels = {"method": "GET", "route": "/partners/{partner_id}", "status": "303"}  # anonymous: to login
    before = PROCESS.get_sample_value(f"{LATENCY}_count", labels) or 0
    with _client(tmp_path, db) as client:
        assert client.get("/partners/4711").status_code == 303
        assert client.get("/partners/4712").status_code == 303
        assert client.get("/no/such/page/99").status_code == 404
        samples = _scrape(client)
    assert PROCESS.get_sample_value(f"{LATENCY}_count", labels) == before + 2
    key = (f"{LATENCY}_count", tuple(sorted(labels.items())))
    assert samples[key] == before + 2
    routes = {dict(labels)["route"] for name, labels in samples if name == f"{LATENCY}_count"}
    assert "unmatched" in routes
    assert not [route for route in routes if "4711" in route or "99" in route]


def _job(kind: str, state: str, due_in: float) -> Job:
    return Job(
        kind=kind,
        subject="partner:1",
        arguments={},
        actor={},
        queued_by="test",
        state=state,
        next_attempt_at=utcnow() + timedelta(seconds=due_in),
    )


def _delivery(uid: str, channel: str, status: str, attempts: int, due_in: float) -> Delivery:
    return Delivery(
        uid=uid,
        source="manual",
        channel=channel,
        target="T",
        recipient="user:1",
        message={},
        status=status,
        attempts=attempts,
        next_attempt_at=utcnow() + timedelta(seconds=due_in),
    )


@pytest.mark.all_backends
def test_queue_and_delivery_figures_come_from_the_database(tmp_path: Path, db: Engine) -> None:
    with transaction(session_factory(db)) as session:
        session.add_all(
            [
                _job(MAPPING, "queued", due_in=-100),  # due longest ago: the age is ~100 s
                _job(MAPPING, "queued", due_in=-30),
                _job(MAPPING, "queued", due_in=+600),  # a retry waiting for its time: queued, not late
                _job(MAPPING, "running", due_in=+300),
                _job(EXCHANGE, "failed", due_in=-5000),  # not queued: no part of the age
                _job(EXCHANGE, "done", due_in=-9000),  # history: counted nowhere
                _delivery("d1", "slack", "pending", attempts=0, due_in=-50),
                _delivery("d2", "slack", "pending", attempts=2, due_in=+120),  # failed twice, waits
                _delivery("d3", "email", "delivered", attempts=1, due_in=-7000),
                _delivery("d4", "email", "delivered", attempts=3, due_in=-7000),
                _delivery("d5", "email", "sending", attempts=1, due_in=+60),
                _delivery("d6", "webhook", "dead", attempts=8, due_in=-8000),
            ]
        )
    with _client(tmp_path, db) as client:
        samples = _scrape(client)

    def value(name: str, **labels: str) -> float:
        return samples[(name, tuple(sorted(labels.items())))]

    assert value("ecoops_jobs", kind=MAPPING, state="queued") == 3
    assert value("ecoops_jobs", kind=MAPPING, state="running") == 1
    assert value("ecoops_jobs", kind=MAPPING, state="failed") == 0  # every known kind shown, at 0 too
    assert value("ecoops_jobs", kind=EXCHANGE, state="failed") == 1
    assert value("ecoops_jobs", kind=EXCHANGE, state="queued") == 0
    assert 100 <= value("ecoops_jobs_oldest_due_age_seconds") < 160
    assert value("ecoops_deliveries", channel="slack", state="pending") == 1
    assert value("ecoops_deliveries", channel="slack", state="retrying") == 1
    assert value("ecoops_deliveries", channel="email", state="delivered") == 2
    assert value("ecoops_deliveries", channel="email", state="sending") == 1
    assert value("ecoops_deliveries", channel="webhook", state="dead") == 1
    assert value("ecoops_deliveries", channel="webhook", state="delivered") == 0
    assert 50 <= value("ecoops_deliveries_oldest_due_age_seconds") < 110


def test_nothing_waiting_is_age_zero(tmp_path: Path, db: Engine) -> None:
    with transaction(session_factory(db)) as session:
        session.add_all(
            [_job(MAPPING, "queued", due_in=+600), _delivery("d", "email", "pending", 0, due_in=+600)]
        )
    with _client(tmp_path, db) as client:
        samples = _scrape(client)
    assert samples[("ecoops_jobs_oldest_due_age_seconds", ())] == 0
    assert samples[("ecoops_deliveries_oldest_due_age_seconds", ())] == 0
    assert samples[("ecoops_jobs", (("kind", MAPPING), ("state", "queued")))] == 1
