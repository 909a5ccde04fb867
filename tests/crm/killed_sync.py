"""Running a CRM sync in its own process, to kill it with SIGKILL mid-way (tests/crm/*/test_killed_sync.py):
the database it writes to (a SQLite file or a fresh PostgreSQL database), the process, and waiting until
the fake CRM has served enough pages."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from ecoops.config import Settings
from tests.conftest import fresh_postgres_database

KILLS = 5


def database(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'killed.db'}"
    return fresh_postgres_database(request.getfixturevalue("postgres_admin_url"))


def start(command: str, url: str, settings: Settings, **env: str) -> subprocess.Popen[bytes]:
    """`ecoops <command>` against `url`, 20 records a batch (so a kill lands between batches)."""
    environment = (
        os.environ
        | {
            "ECOOPS_ENV": "test",
            "ECOOPS_DATABASE_URL": url,
            "ECOOPS_SECRET_KEY": settings.secret_key,
            "ECOOPS_CRM_SYNC_BATCH_RECORDS": "20",
            "ECOOPS_VAR_DIR": str(settings.var_dir),
        }
        | env
    )
    return subprocess.Popen(
        [sys.executable, "-m", "ecoops.cli", command],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def wait_for_pages(served: Callable[[], int], pages: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while served() < pages and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
