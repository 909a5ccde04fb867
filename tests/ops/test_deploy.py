"""The container files, checked for structure: docker is not run here (no daemon, no image registry), so
these tests hold what a reader of Dockerfile and compose.yaml relies on."""

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    parsed: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return parsed


@pytest.fixture(scope="module")
def dockerfile() -> list[str]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _final_stage(lines: list[str]) -> list[str]:
    starts = [n for n, line in enumerate(lines) if line.startswith("FROM ")]
    return lines[starts[-1] :]


def test_image_is_python_slim_installs_the_lock_with_hashes_and_runs_as_a_user(dockerfile: list[str]) -> None:
    final = _final_stage(dockerfile)
    assert re.fullmatch(r"FROM python:3\.\d+-slim", final[0])
    assert "RUN pip install --require-hashes -r requirements-runtime.lock" in final
    users = [line.split()[1] for line in final if line.startswith("USER ")]
    assert users and users[-1] not in {"root", "0"}
    (cmd,) = [line for line in final if line.startswith("CMD ")]
    assert cmd.index("ecoops db upgrade") < cmd.index("ecoops serve --host 0.0.0.0")


def _pins(lock: str) -> dict[str, str]:
    found = re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)", (ROOT / lock).read_text(), re.MULTILINE)
    return {name.lower().replace("_", "-"): version for name, version in found}


def test_the_image_lock_has_what_runs_at_the_versions_tested_and_no_tools() -> None:
    runtime, everything = _pins("requirements-runtime.lock"), _pins("requirements.lock")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = [
        re.split(r"[<>=!~\[; ]", dep, maxsplit=1)[0].lower().replace("_", "-")
        for dep in project["dependencies"]
    ]
    assert [name for name in names if name not in runtime] == []
    tools = {"pytest", "pytest-xdist", "hypothesis", "mypy", "ruff", "playwright"}
    assert tools <= set(everything) and not tools & set(runtime)
    assert {name: v for name, v in runtime.items() if everything.get(name) != v} == {}


def test_image_carries_every_front_end_asset_make_install_vendors(dockerfile: list[str]) -> None:
    makefile = (ROOT / "Makefile").read_text()
    vendored = re.findall(r"node_modules/(\S+?)(?=\s|$)", makefile)
    copied = " ".join(dockerfile)
    missing = [path for path in vendored if f"node_modules/{path}" not in copied]
    assert vendored and not missing


def test_compose_runs_postgresql_migrations_web_and_workers(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"db", "migrate", "web", "worker", "proxy"}
    assert services["db"]["image"].startswith("postgres:")
    assert services["migrate"]["command"] == ["ecoops", "db", "upgrade"]
    assert services["migrate"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert services["web"]["command"][:2] == ["ecoops", "serve"]
    assert services["worker"]["command"] == ["ecoops", "worker"]
    for name in ("web", "worker"):
        service = services[name]
        assert service["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
        env = service["environment"]
        assert env["ECOOPS_DATABASE_URL"].startswith("postgresql://ecoops:${POSTGRES_PASSWORD")
        assert env["ECOOPS_DATABASE_URL"].endswith("@db:5432/ecoops")
        assert env["ECOOPS_WORKER"] == "off"  # jobs only in the worker service
        assert env["ECOOPS_ENV"] == "production"
        assert env["ECOOPS_SECRET_KEY"].startswith("${ECOOPS_SECRET_KEY:?")  # one key for all, or no start
        assert "ecoops-var:/var/lib/ecoops" in service["volumes"]
    assert services["web"]["deploy"]["replicas"] == "${WEB_REPLICAS:-2}"
    assert services["worker"]["deploy"]["replicas"] == "${WORKER_REPLICAS:-2}"
    assert "/readyz" in " ".join(services["web"]["healthcheck"]["test"])


def test_proxy_balances_over_web_and_keeps_metrics_inside(compose: dict[str, Any]) -> None:
    proxy = compose["services"]["proxy"]
    assert proxy["depends_on"] == {"web": {"condition": "service_healthy"}}
    mount = next(volume for volume in proxy["volumes"] if "nginx.conf" in volume)
    conf = (ROOT / mount.split(":")[0]).read_text()
    assert "server web:8000;" in conf
    assert "proxy_set_header X-Request-ID $request_id;" in conf
    assert re.search(r"location = /metrics \{\s*return 404;", conf)
