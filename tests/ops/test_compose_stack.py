"""compose.yaml's stack, run without docker: every service's own command with its own environment,
interpolated as `docker compose` does, as processes on the test's PostgreSQL server.

No docker daemon or image registry is reachable here, so this is what can be run of the file: the
migrate service once, WEB_REPLICAS web processes and WORKER_REPLICAS workers (each replica its own
process, as each is its own container), sharing one var folder as they share the `ecoops-var` volume.
What docker adds — the image, the network name `db`, nginx — is left out: the database URL's host
and the web port are swapped for the test's. A person then uses it as the file's header says: an
admin made with `ecoops create-user`, signed in on one web process, a page of another, a partner list
uploaded on one and mapped by whichever worker claims the job.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import create_engine, select, text

from ecoops.db import make_engine, session_factory, transaction
from ecoops.jobs.models import Job
from tests.factories import csrf_from, make_partner
from tests.mapping.test_mapping_runs import HEADER, PARTNER_ROWS
from tests.pg_server import free_port

ROOT = Path(__file__).parents[2]
CLI = [sys.executable, "-m", "ecoops.cli"]  # the image's `ecoops` entry point
PASSWORD = "compose-password-1"

_VARIABLE = re.compile(r"\$\{(\w+)(?:(:-|:\?)([^}]*))?\}")


def interpolate(value: str, variables: Mapping[str, str]) -> str:
    """`${VAR}`, `${VAR:-default}` and `${VAR:?error}` as docker compose reads them."""

    def one(found: re.Match[str]) -> str:
        name, operator, argument = found.groups()
        if variables.get(name):
            return variables[name]
        if operator == ":?":
            raise ValueError(f"{name}: {argument}")
        return argument if operator == ":-" else ""

    return _VARIABLE.sub(one, value)


def test_interpolation_follows_compose() -> None:
    assert interpolate("${A:-x}/${B:-y}/${C}", {"A": "1", "B": ""}) == "1/y/"
    with pytest.raises(ValueError, match="POSTGRES_PASSWORD: set it"):
        interpolate("${POSTGRES_PASSWORD:?set it}", {})


def _environment(service: dict[str, Any], variables: Mapping[str, str]) -> dict[str, str]:
    return {key: interpolate(str(value), variables) for key, value in service.get("environment", {}).items()}


def _command(service: dict[str, Any], variables: Mapping[str, str]) -> list[str]:
    command = [interpolate(part, variables) for part in service["command"]]
    assert command[0] == "ecoops"
    return CLI + command[1:]


def _wait_until_ready(url: str, processes: list[subprocess.Popen[bytes]], log: Path) -> None:
    deadline = time.monotonic() + 180  # processes import the app slowly on a busy two-core machine
    while True:
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        dead = [p.args for p in processes if p.poll() is not None]
        assert not dead and time.monotonic() < deadline, (
            f"{url} not ready ({dead}):\n{log.read_text()[-3000:]}"
        )
        time.sleep(0.3)


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[dict[str, Any]]:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    variables = {"POSTGRES_PASSWORD": PASSWORD, "ECOOPS_SECRET_KEY": "c" * 48}
    # The db service's user and password, on the test's server, and a database of the stack's own.
    admin_url: str = request.getfixturevalue("postgres_admin_url")
    database = f"ecoops_compose_{uuid.uuid4().hex[:8]}"
    db_environment = _environment(services["db"], variables)
    user, password = db_environment["POSTGRES_USER"], db_environment["POSTGRES_PASSWORD"]
    admin = create_engine(
        admin_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        if not connection.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :u"), {"u": user}).first():
            connection.execute(text(f"CREATE ROLE \"{user}\" LOGIN PASSWORD '{password}'"))
        connection.execute(text(f'CREATE DATABASE "{database}" OWNER "{user}"'))
    admin.dispose()
    server = admin_url.split("@", 1)[1].split("/", 1)[0]

    folder = tmp_path_factory.mktemp("compose")
    log = folder / "stack.log"

    def environment(name: str) -> dict[str, str]:
        own = _environment(services[name], variables)
        assert own["ECOOPS_DATABASE_URL"].startswith(f"postgresql://{user}:{password}@db:5432/")
        own["ECOOPS_DATABASE_URL"] = own["ECOOPS_DATABASE_URL"].replace(
            "@db:5432/ecoops", f"@{server}/{database}"
        )
        # The image's ENV lines (Dockerfile) and the shared volume.
        return {
            **os.environ,
            **own,
            "ECOOPS_VAR_DIR": str(folder / "var"),
            "ECOOPS_WORKER_POLL_SECONDS": "0.3",
        }

    migrated = subprocess.run(
        _command(services["migrate"], variables), env=environment("migrate"), capture_output=True, timeout=300
    )
    assert migrated.returncode == 0, migrated.stderr.decode()[-3000:]

    webs: list[str] = []
    processes: list[subprocess.Popen[bytes]] = []
    with log.open("wb") as out:
        for _ in range(int(interpolate(str(services["web"]["deploy"]["replicas"]), {}))):
            port = free_port()
            command = _command(services["web"], variables)
            command[command.index("--port") + 1] = str(port)
            command[command.index("--host") + 1] = "127.0.0.1"
            processes.append(
                subprocess.Popen(command, env=environment("web"), stdout=out, stderr=subprocess.STDOUT)
            )
            webs.append(f"http://127.0.0.1:{port}")
        for _ in range(int(interpolate(str(services["worker"]["deploy"]["replicas"]), {}))):
            command = _command(services["worker"], variables)
            processes.append(
                subprocess.Popen(command, env=environment("worker"), stdout=out, stderr=subprocess.STDOUT)
            )
    engine = make_engine(environment("web")["ECOOPS_DATABASE_URL"])
    try:
        for web in webs:
            _wait_until_ready(web, processes, log)
        created = subprocess.run(
            [
                *CLI,
                "create-user",
                "admin@compose.example",
                "--role",
                "admin",
                "--password",
                "A-long-pass-1234",
            ],
            env=environment("web"),
            capture_output=True,
            timeout=120,
        )
        assert created.returncode == 0, created.stderr.decode()[-3000:]
        yield {"webs": webs, "processes": processes, "engine": engine, "log": log}
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        engine.dispose()


def test_the_services_run_as_the_file_says_and_share_sign_in_uploads_and_jobs(stack: dict[str, Any]) -> None:
    first, second = stack["webs"][:2]
    assert len(stack["webs"]) == 2 and len(stack["processes"]) == 4  # the file's default replicas
    with transaction(session_factory(stack["engine"])) as session:
        partner_id = make_partner(session, name="Northwind").id

    # One browser: cookies are kept per host, not per port, so both processes get them.
    browser = httpx.Client(timeout=60)
    login = browser.get(first + "/login")
    signed = browser.post(
        first + "/login",
        data={
            "email": "admin@compose.example",
            "password": "A-long-pass-1234",
            "csrf_token": csrf_from(login.text),
        },
    )
    assert signed.status_code == 303, signed.text[:500]
    # Signed in on one process, recognised by the other (one secret key, sessions in the database).
    page = browser.get(f"{second}/mapping/partners/{partner_id}")
    assert page.status_code == 200 and "Northwind" in page.text
    body = (HEADER + "\n".join(PARTNER_ROWS) + "\n").encode()
    uploaded = browser.post(
        f"{first}/mapping/partners/{partner_id}/uploads",
        data={"csrf_token": csrf_from(page.text)},
        files={"file": ("northwind.csv", body, "text/csv")},
    )
    assert uploaded.status_code == 303, uploaded.text[:500]
    # The mapping run is a job: one of the worker processes claims and finishes it.
    deadline = time.monotonic() + 120
    sessions = session_factory(stack["engine"])
    while True:
        with sessions() as session:
            statuses = session.execute(select(Job.state)).scalars().all()
        if statuses and all(state == "done" for state in statuses):
            break
        assert time.monotonic() < deadline, f"jobs {statuses}:\n{stack['log'].read_text()[-3000:]}"
        time.sleep(0.5)
    shown = browser.get(f"{second}/mapping/partners/{partner_id}").text
    assert "Not mapped yet" not in shown and "every 1s" not in shown
