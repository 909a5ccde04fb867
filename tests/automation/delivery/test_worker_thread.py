"""The in-process worker: started with the web app when asked, never by the test app fixture."""

from __future__ import annotations

from fastapi.testclient import TestClient

from ecoops.automation.deliveries import Channel
from ecoops.automation.worker_thread import wanted
from ecoops.config import Settings
from ecoops.web.app import create_app
from tests.automation.delivery.helpers import add_deliveries, rows


def test_auto_runs_the_worker_except_in_tests():
    assert wanted(Settings(env="development"))
    assert not wanted(Settings(env="test"))
    assert wanted(Settings(env="test", worker="inprocess"))
    assert not wanted(Settings(env="production", secret_key="s" * 40, worker="off"))


def test_the_app_fixture_starts_no_worker(client, app):
    client.get("/login")
    assert not hasattr(app.state, "worker")


def test_an_app_asked_for_it_delivers_in_process_and_stops_the_thread_on_shutdown(
    db, delivery_settings, smtp
):
    _, inbox = smtp
    engine = db.kw["bind"]  # the committed SQLite database, emptied after the test
    settings = delivery_settings.model_copy(update={"worker": "inprocess", "worker_poll_seconds": 0.05})
    app = create_app(settings, engine)
    [uid] = add_deliveries(app.state.sessions, Channel.EMAIL, ["inprocess@example.com"], text="in-process")
    with TestClient(app):
        worker = app.state.worker
        for _ in range(200):
            if rows(app.state.sessions)[uid].status == "delivered":
                break
            worker.stopping.wait(0.05)
    assert worker.stopping.is_set()  # shutdown asked it to stop
    assert rows(app.state.sessions)[uid].status == "delivered"
    assert [m["X-Ecoops-Delivery"] for m in inbox.messages] == [uid]
