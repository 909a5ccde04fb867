"""Small CSV files for the import tests, written as a CRM would export them, and a one-call import."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, MetaData, select
from sqlalchemy.orm import Session

from ecoops.actors import SYSTEM, Actor
from ecoops.crm.imports import service
from ecoops.crm.imports.records import Workspace

TODAY = date(2026, 6, 1)
WORKSPACE = Workspace(currency="USD", tz=ZoneInfo("UTC"))
CRM_TABLES = ("accounts", "opportunities", "opportunity_stage_changes", "contacts", "partners")


def write_csv(folder: Path, text: str, name: str = "export.csv", encoding: str = "utf-8") -> Path:
    """`text` with its lines joined by CRLF, as both CRMs write them."""
    path = folder / name
    path.write_bytes(text.replace("\n", "\r\n").encode(encoding))
    return path


def run(
    session: Session,
    path: Path,
    *,
    actor: Actor = SYSTEM,
    workspace: Workspace = WORKSPACE,
    **request: Any,
) -> service.ImportOutcome:
    return service.run_import(
        session,
        actor,
        path,
        filename=path.name,
        request=service.ImportRequest(**request),
        workspace=workspace,
        today=TODAY,
    )


def snapshot(connection: Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the CRM tables, to show that a refused import left them exactly as they were."""
    tables = MetaData()
    tables.reflect(connection, only=CRM_TABLES)
    return {
        name: sorted(connection.execute(select(tables.tables[name])).all(), key=repr) for name in CRM_TABLES
    }
