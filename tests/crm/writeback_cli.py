"""`ecoops <crm>-writeback` in its own process, on its own SQLite file, for the write-back tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from ecoops.config import Settings
from ecoops.db import make_engine, migrate, session_factory


def cli_database(tmp_path: Path) -> tuple[str, Engine, sessionmaker[Session]]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = make_engine(url)
    migrate(engine)
    return url, engine, session_factory(engine)


def run_cli(command: str, url: str, settings: Settings, *args: str) -> tuple[int, str]:
    """Its exit status and what it printed (spaces and line breaks as one space)."""
    env = os.environ | {
        "ECOOPS_ENV": "test",
        "ECOOPS_DATABASE_URL": url,
        "ECOOPS_SECRET_KEY": settings.secret_key,
        "ECOOPS_CRM_CA_BUNDLE": settings.crm_ca_bundle,
        "ECOOPS_HUBSPOT_API_URL": settings.hubspot_api_url,
        "ECOOPS_VAR_DIR": str(settings.var_dir),
    }
    done = subprocess.run(
        [sys.executable, "-m", "ecoops.cli", command, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, " ".join((done.stdout + done.stderr).split())
