"""Several processes on one PostgreSQL database, as a production deployment runs them: two web servers
(`ecoops serve`, one of them with `--workers 2`) behind a load balancer, and two `ecoops worker`s. People's
requests are spread across the web processes; a partner's private exchange has its message 1 answered by
one web process and its message 3 by another; our own exchange runs in whichever worker claims it.

The load balancer is a small proxy in the test: round robin, except that it sends the exchange's two
steps to different servers on purpose (a real balancer would do so only by chance).
"""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from ecoops.db import make_engine, migrate, session_factory
from ecoops.psi.models import ExchangeStatus, PsiExchange, PsiPartyState
from tests.conftest import fresh_postgres_database
from tests.factories import PASSWORD, csrf_from
from tests.pg_server import free_port
from tests.psi.conftest import (
    ALPHA_ACCOUNTS,
    ALPHA_RULES,
    BETA_ACCOUNTS,
    BETA_RULES,
    Instance,
    seed_instance,
    start_instance,
    wait_for_exchanges,
)

START, FINISH = "/psi/v1/exchange/start", "/psi/v1/exchange/finish"
HOP_HEADERS = {"host", "content-length", "connection", "transfer-encoding", "keep-alive"}


class Balancer:
    """Round robin over the web servers; the exchange's message 1 to the first, message 3 to the last."""

    def __init__(self, backends: list[str]) -> None:
        self.backends = backends
        self.served: list[tuple[str, str]] = []  # (path, backend)
        self._next = itertools.cycle(range(len(backends)))
        self._lock = threading.Lock()
        self._transport = httpx.HTTPTransport()  # no client: a client would keep people's cookies
        balancer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                backend = balancer.pick(self.path)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
                headers["x-forwarded-host"] = self.headers.get("host", "")
                request = httpx.Request(self.command, backend + self.path, headers=headers, content=body)
                request.extensions["timeout"] = httpx.Timeout(60).as_dict()
                answer = balancer._transport.handle_request(request)
                answer.read()
                self.send_response(answer.status_code)
                for key, value in answer.headers.multi_items():
                    if key.lower() not in HOP_HEADERS | {"content-encoding"}:
                        self.send_header(key, value)
                self.send_header("content-length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = _forward

            def log_message(self, *_args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def pick(self, path: str) -> str:
        with self._lock:
            if path.startswith(START):
                backend = self.backends[0]
            elif path.startswith(FINISH):
                backend = self.backends[-1]
            else:
                backend = self.backends[next(self._next)]
            self.served.append((path, backend))
        return backend

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)
        self._transport.close()


def _wait_until_up(url: str, processes: list[subprocess.Popen[bytes]], log: Path) -> None:
    deadline = time.monotonic() + 180  # processes import the app slowly on a busy two-core machine
    while True:
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        dead = [p for p in processes if p.poll() is not None]
        assert not dead and time.monotonic() < deadline, f"{url} did not start:\n{log.read_text()[-3000:]}"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[dict]:
    folder = Path(tmp_path_factory.mktemp("processes"))
    database_url = fresh_postgres_database(request.getfixturevalue("postgres_admin_url"))
    engine = make_engine(database_url)
    migrate(engine)
    partner_id = seed_instance(engine, "alpha", "Beta", ALPHA_ACCOUNTS, ALPHA_RULES)
    ports = [free_port(), free_port()]
    balancer = Balancer([f"http://127.0.0.1:{port}" for port in ports])
    environment = {
        **os.environ,
        "ECOOPS_ENV": "test",
        "ECOOPS_DATABASE_URL": database_url,
        "ECOOPS_VAR_DIR": str(folder / "var"),
        "ECOOPS_SECRET_KEY": "m" * 40,
        "ECOOPS_PUBLIC_URL": balancer.url,
        "ECOOPS_PSI_ALLOW_HTTP_LOOPBACK": "true",
        "ECOOPS_PSI_MAX_ITEMS": "1000",
        "ECOOPS_PSI_TIMEOUT_SECONDS": "60",
        "ECOOPS_WORKER": "off",  # jobs are the worker processes' alone
        "ECOOPS_WORKER_POLL_SECONDS": "0.2",
        "ECOOPS_LOG_FORMAT": "text",
    }
    log = folder / "processes.log"
    cli = [sys.executable, "-m", "ecoops.cli"]
    commands = [
        [*cli, "serve", "--port", str(ports[0])],
        [*cli, "serve", "--port", str(ports[1]), "--workers", "2"],
        [*cli, "worker"],
        [*cli, "worker"],
    ]
    with log.open("wb") as out:
        processes = [
            subprocess.Popen(command, env=environment, stdout=out, stderr=subprocess.STDOUT)
            for command in commands
        ]
    beta: Instance | None = None
    try:
        for backend in balancer.backends:
            _wait_until_up(backend, processes, log)
        beta = start_instance(folder, "beta", "Alpha", BETA_ACCOUNTS, BETA_RULES)
        yield {
            "balancer": balancer,
            "beta": beta,
            "sessions": session_factory(engine),
            "partner_id": partner_id,
            "processes": processes,
            "log": log,
        }
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        if beta is not None:
            beta.server.should_exit = True
            beta.thread.join(timeout=10)
            beta.engine.dispose()
        balancer.close()
        engine.dispose()


def _signed_in(url: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=60)
    token = csrf_from(client.get("/login").text)
    data = {"email": "admin@alpha.example", "password": PASSWORD, "csrf_token": token}
    assert client.post("/login", data=data).status_code == 303
    return client


def test_requests_spread_across_web_processes_share_sign_in_and_data(deployment: dict) -> None:
    balancer: Balancer = deployment["balancer"]
    browser = _signed_in(balancer.url)  # the form from one process, the sign-in on the next
    before = len(balancer.served)
    pages = [browser.get(path) for path in ["/partners", "/accounts", "/partners", "/accounts", "/partners"]]
    assert [page.status_code for page in pages] == [200] * 5
    assert all("Beta" in page.text for page in pages[::2])
    assert {backend for _, backend in balancer.served[before:]} == set(balancer.backends)


def test_an_exchange_answered_by_two_processes_and_one_run_by_a_worker_process(deployment: dict) -> None:
    balancer: Balancer = deployment["balancer"]
    beta: Instance = deployment["beta"]
    partner_id = deployment["partner_id"]
    browser = _signed_in(balancer.url)
    private = f"/mapping/partners/{partner_id}/private"
    token = csrf_from(browser.get(private).text)
    invited = browser.post(f"{private}/invitations", data={"csrf_token": token, "interval_hours": "0"})
    assert invited.status_code == 201, invited.text
    code = re.search(r'<pre id="invitation-code">([^<]+)</pre>', invited.text)
    assert code is not None
    other = beta.browser()
    redeemed = beta.post_form(
        other, f"/mapping/partners/{beta.partner_id}/private/redeem", code=code.group(1)
    )
    assert redeemed.status_code == 303, redeemed.text

    # Beta runs an exchange with us: message 1 reaches one of our servers, message 3 the other.
    ran = beta.post_form(other, f"/mapping/partners/{beta.partner_id}/private/run")
    assert ran.status_code == 303, ran.text
    theirs = wait_for_exchanges(beta, 2)
    assert [(e.mode, e.status) for e in theirs] == [("count", "done"), ("reveal", "done")], theirs
    steps = [(path, backend) for path, backend in balancer.served if path.startswith((START, FINISH))]
    assert [backend for _, backend in steps] == [balancer.backends[0], balancer.backends[1]] * 2
    sessions = deployment["sessions"]
    with sessions() as session:
        ours = session.scalars(select(PsiExchange).where(PsiExchange.role == "responder")).all()
        assert [(e.mode, e.status) for e in ours] == [("count", "done"), ("reveal", "done")]
        assert [e.matches for e in ours] == [e.matches for e in theirs]
        assert session.scalars(select(PsiPartyState)).all() == []  # taken by the process that finished

    # We run one: a worker process claims the job and talks to Beta.
    token = csrf_from(browser.get(private).text)
    queued = browser.post(f"{private}/run", data={"csrf_token": token})
    assert queued.status_code == 303, queued.text
    deadline = time.monotonic() + 60
    while True:
        with sessions() as session:
            mine = session.scalars(
                select(PsiExchange)
                .where(PsiExchange.role == "initiator", PsiExchange.status != ExchangeStatus.RUNNING.value)
                .order_by(PsiExchange.id)
            ).all()
        if len(mine) == 2:
            break
        assert time.monotonic() < deadline, deployment["log"].read_text()[-3000:]
        time.sleep(0.3)
    assert [(e.mode, e.status) for e in mine] == [("count", "done"), ("reveal", "done")]
