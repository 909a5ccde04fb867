"""Probes for load balancers and orchestrators: `/healthz` (the process answers) and `/readyz` (it can serve).

Neither needs a sign-in nor tells anything but up or down and why. `/healthz` never touches the
database, so a database outage does not get every web process restarted; `/readyz` answers 503 with
the reason while the database cannot be reached or its schema is not at this release's migrations.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from ecoops.db import READ_ONLY

MIGRATIONS = Path(__file__).parent.parent / "migrations"

router = APIRouter()


@lru_cache
def release_heads() -> frozenset[str]:
    """The migration heads this release brings (read from the scripts once per process)."""
    return frozenset(ScriptDirectory(str(MIGRATIONS)).get_heads())


@router.get("/healthz", include_in_schema=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", include_in_schema=False)
def readyz(request: Request) -> JSONResponse:
    try:
        with request.app.state.engine.connect() as connection:
            connection.execution_options(**READ_ONLY)
            current = frozenset(MigrationContext.configure(connection).get_current_heads())
    except SQLAlchemyError as exc:
        # The driver's error class only: its message may name hosts and users.
        return _unready(f"database unreachable ({type(getattr(exc, 'orig', None) or exc).__name__})")
    if current != release_heads():
        at = f"at {', '.join(sorted(current))}" if current else "missing"
        needed = ", ".join(sorted(release_heads()))
        return _unready(f"database schema {at}, this release needs {needed}: run `ecoops db upgrade`")
    return JSONResponse({"status": "ready"})


def _unready(reason: str) -> JSONResponse:
    return JSONResponse({"status": "unavailable", "reason": reason}, status_code=503)
