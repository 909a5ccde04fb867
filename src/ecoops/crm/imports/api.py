"""REST route for imports: `POST /api/v1/imports` takes a CSV file and dry-runs or commits it."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor
from ecoops.config import Settings
from ecoops.crm.imports import service, uploads
from ecoops.crm.imports.fields import Kind
from ecoops.crm.imports.pages import workspace_of
from ecoops.crm.imports.values import DateOrder
from ecoops.permissions import Permission
from ecoops.web.deps import api_permission, app_settings, db
from ecoops.web.errors import ValidationErrorOut

router = APIRouter(tags=["imports"])
importer = api_permission(Permission.IMPORT_DATA)


class ProblemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    line: int
    field: str
    value: str
    message: str


class ImportOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    status: str
    kind: str
    source_format: str
    run_id: int | None
    rows: int
    new: int
    updated: int
    unchanged: int
    rejected: int
    problems: list[ProblemOut]
    created: list[str]
    partner_field_rule: str = Field(
        description="opportunities: record (the CRM partner field is the system of record) or review"
    )
    partner_field_deals: int = Field(
        description="opportunities: deals whose partner field names a partner, decided by that rule"
    )


@router.post(
    "/imports",
    response_model=ImportOut,
    responses={
        201: {"model": ImportOut},
        422: {"model": ImportOut | ValidationErrorOut, "description": "A refused file, or invalid fields"},
    },
)
def import_file(
    file: UploadFile = File(..., description="the CSV file"),
    kind: Kind | None = Form(None),
    mapping: str = Form("", max_length=20_000, description='JSON: {"kind": …, "columns": {field: column}}'),
    date_order: DateOrder | None = Form(None),
    dry_run: bool = Form(False),
    accept_valid: bool = Form(False),
    actor: Actor = Depends(importer),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> JSONResponse:
    """Import a CSV file: 200 with the counts for a dry run, 201 when committed, 422 when refused.

    A refused file writes nothing but its import run and error report (`problems` lists the first 100).
    """
    try:
        spec = json.loads(mapping) if mapping else None
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"mapping is not JSON: {exc}") from None
    request = service.ImportRequest(kind, spec, date_order, dry_run, accept_valid)
    with tempfile.TemporaryDirectory(prefix="ecoops-import-") as folder:
        filename = file.filename or "upload.csv"
        token = uploads.save_upload(Path(folder), file.file, filename)
        outcome = service.run_import(
            session,
            actor,
            uploads.upload_path(Path(folder), token),
            filename=filename,
            request=request,
            workspace=workspace_of(settings),
            today=settings.today(),
        )
    body = ImportOut.model_validate(outcome)
    status = {service.COMMITTED: 201, service.REJECTED: 422}.get(outcome.status, 200)
    return JSONResponse(body.model_dump(), status_code=status)
