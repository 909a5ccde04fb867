"""The import page (IMPORT_DATA): upload, see the format, mapping and preview, dry-run, commit, history.

The chosen mapping travels as query parameters while the user adjusts it (`kind`, `date_order`,
`col_<field>`), and as one JSON form field (`mapping`) when the import runs.
"""

from __future__ import annotations

import io
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse, Response, StreamingResponse
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.actors import Actor
from ecoops.config import Settings
from ecoops.crm.imports import service, uploads
from ecoops.crm.imports.fields import KIND_FIELDS, Kind, field_names
from ecoops.crm.imports.formats import ImportFileError
from ecoops.crm.imports.records import Problem, Workspace
from ecoops.crm.imports.report import write_report
from ecoops.crm.imports.values import DateOrder
from ecoops.jobs.kinds import import_arguments
from ecoops.jobs.models import Job
from ecoops.jobs.names import IMPORT, import_subject
from ecoops.jobs.queue import active_job, enqueue, latest_job
from ecoops.permissions import Permission
from ecoops.web.deps import app_settings, db, page_permission
from ecoops.web.fields import Id, PageNumber
from ecoops.web.security import csrf_protect
from ecoops.web.templating import flash, render

router = APIRouter(dependencies=[Depends(csrf_protect)])
importer = page_permission(Permission.IMPORT_DATA)


def workspace_of(settings: Settings) -> Workspace:
    return Workspace(currency=settings.currency, tz=settings.tz)


def request_from(params: dict[str, str]) -> service.ImportRequest:
    """The user's choices: `kind`, `date_order`, and with `mapped=1` an explicit `col_<field>` mapping."""
    kind = Kind(params["kind"]) if params.get("kind") in Kind.__members__.values() else None
    order = DateOrder(params["date_order"]) if params.get("date_order") in DateOrder.__members__ else None
    mapping = None
    if params.get("mapped") == "1" and kind is not None:
        names = field_names(kind)  # columns chosen for another kind before the kind was changed are dropped
        columns = {name: params[f"col_{name}"] for name in names if params.get(f"col_{name}")}
        if columns:
            mapping = {"kind": kind.value, "columns": columns, "date_order": order.value if order else None}
    return service.ImportRequest(kind=kind, mapping=mapping, date_order=order)


def _choices(request: service.ImportRequest) -> dict[str, str]:
    """`request_from`'s input back again, for links and the hidden form field."""
    params = {"kind": request.kind.value if request.kind else "", "date_order": request.date_order or ""}
    if request.mapping is not None:
        params["mapped"] = "1"
        params |= {f"col_{name}": header for name, header in request.mapping["columns"].items()}
    return {k: v for k, v in params.items() if v}


def spool_report(problems: Iterator[Problem]) -> Iterator[bytes]:
    """The error report as UTF-8 with a BOM (so Excel reads it right), written now, streamed later.

    Written before the response starts, while the request's session is still open; it spills to
    disk past 8 MiB so a long report costs no memory.
    """
    spool = tempfile.SpooledTemporaryFile(max_size=8 << 20)  # noqa: SIM115 - closed by the generator
    text = io.TextIOWrapper(spool, encoding="utf-8-sig", newline="", write_through=True)
    write_report(problems, text)
    text.detach()
    spool.seek(0)

    def chunks() -> Iterator[bytes]:
        with spool:
            while chunk := spool.read(1 << 16):
                yield chunk

    return chunks()


@router.get("/imports")
def imports_home(
    request: Request,
    page: PageNumber = 1,
    actor: Actor = Depends(importer),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    runs = service.list_runs(session, actor, page=page, per_page=settings.page_size)
    return render(request, "imports/index.html", page=runs, kinds=list(Kind))


@router.post("/imports")
def upload(
    request: Request,
    file: UploadFile = File(...),
    kind: str = Form(""),
    actor: Actor = Depends(importer),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    filename = file.filename or "upload.csv"
    token = uploads.save_upload(settings.uploads_dir, file.file, filename)
    audit.record(session, actor, "import.uploaded", "upload", token, filename=filename)
    query = f"?kind={kind}" if kind in Kind.__members__.values() else ""
    return RedirectResponse(f"/imports/uploads/{token}{query}", status_code=303)


def _review(
    request: Request,
    actor: Actor,
    settings: Settings,
    token: str,
    choice: service.ImportRequest,
    *,
    outcome: service.ImportOutcome | None = None,
    error: str = "",
    status_code: int = 200,
    job: Job | None = None,
) -> Response:
    path = uploads.upload_path(settings.uploads_dir, token)
    filename = uploads.upload_filename(settings.uploads_dir, token)
    inspection = None
    try:
        inspection = service.inspect_file(
            actor, path, filename=filename, request=choice, workspace=workspace_of(settings)
        )
    except ImportFileError as exc:
        error = error or str(exc)
        status_code = 400 if status_code == 200 and outcome is None else status_code
    try:
        facts, headers = service.file_headers(actor, path, filename=filename)
    except ImportFileError:
        facts, headers = None, []
    kind = inspection.mapping.kind if inspection else (choice.kind or Kind.ACCOUNTS)
    columns = inspection.mapping.columns if inspection else (choice.mapping or {}).get("columns", {})
    return render(
        request,
        "imports/review.html",
        status_code=status_code,
        token=token,
        facts=facts,
        headers=headers,
        inspection=inspection,
        kind=kind,
        kinds=list(Kind),
        fields=KIND_FIELDS[kind],
        columns=columns,
        date_orders=list(DateOrder),
        choice_json=json.dumps(_choices(choice)),
        outcome=outcome,
        error=error,
        has_report=uploads.dry_run_report_path(settings.uploads_dir, token).exists(),
        job=job,
    )


@router.get("/imports/uploads/{token}")
def review(
    request: Request,
    token: str,
    actor: Actor = Depends(importer),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    job = latest_job(session, actor, import_subject(token))  # a large file's commit, run by the worker
    return _review(request, actor, settings, token, request_from(dict(request.query_params)), job=job)


def _lines(path: Path) -> int:
    """The file's line count, a row estimate without parsing (a cell spanning lines only counts more)."""
    count = 0
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            count += chunk.count(b"\n")
    return count


def _queue_commit(
    request: Request, session: Session, actor: Actor, token: str, choice: service.ImportRequest
) -> Response:
    """Queue a large file's commit for the worker (unless queued already); the review page follows it."""
    subject = import_subject(token)
    if active_job(session, subject) is None:
        enqueue(session, actor, IMPORT, subject=subject, arguments=import_arguments(token, choice))
    flash(request, "Import queued: the file is imported in the background, as one unit", "success")
    return RedirectResponse(f"/imports/uploads/{token}?{urlencode(_choices(choice))}", status_code=303)


@router.post("/imports/uploads/{token}")
def run(
    request: Request,
    token: str,
    action: str = Form("dry_run", pattern="^(dry_run|commit)$"),
    mapping: str = Form("{}", max_length=20_000),
    accept_valid: bool = Form(False),
    actor: Actor = Depends(importer),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    """Dry-run (shows the counts) or commit (records the run) the upload with the chosen mapping."""
    path = uploads.upload_path(settings.uploads_dir, token)
    try:
        params: dict[str, Any] = json.loads(mapping)
    except json.JSONDecodeError:
        params = {}
    choice = request_from({str(k): str(v) for k, v in params.items()})
    dry_run = action == "dry_run"
    choice = service.ImportRequest(choice.kind, choice.mapping, choice.date_order, dry_run, accept_valid)
    if not dry_run and _lines(path) > settings.import_job_rows:
        return _queue_commit(request, session, actor, token, choice)
    report = uploads.dry_run_report_path(settings.uploads_dir, token)
    try:
        with report.open("w", encoding="utf-8-sig", newline="") as report_file:
            outcome = service.run_import(
                session,
                actor,
                path,
                filename=uploads.upload_filename(settings.uploads_dir, token),
                request=choice,
                workspace=workspace_of(settings),
                today=settings.today(),
                report_to=report_file if dry_run else None,
            )
    except ImportFileError as exc:
        report.unlink(missing_ok=True)
        return _review(request, actor, settings, token, choice, error=str(exc), status_code=400)
    if dry_run:
        if not outcome.rejected:
            report.unlink(missing_ok=True)
        return _review(request, actor, settings, token, choice, outcome=outcome)
    uploads.remove_upload(settings.uploads_dir, token)
    if outcome.status == service.COMMITTED:
        flash(request, outcome.summary(), "success")
    else:
        flash(request, f"Nothing was imported: {outcome.rejected} rows were refused.", "error")
    return RedirectResponse(f"/imports/{outcome.run_id}", status_code=303)


@router.get("/imports/uploads/{token}/errors.csv")
def dry_run_report(
    token: str, actor: Actor = Depends(importer), settings: Settings = Depends(app_settings)
) -> Response:
    uploads.upload_path(settings.uploads_dir, token)
    report = uploads.dry_run_report_path(settings.uploads_dir, token)
    if not report.exists():
        return RedirectResponse(f"/imports/uploads/{token}", status_code=303)
    name = uploads.upload_filename(settings.uploads_dir, token)
    return FileResponse(report, media_type="text/csv", filename=f"{name}.dry-run-errors.csv")


@router.get("/imports/{run_id}")
def run_page(
    request: Request, run_id: Id, actor: Actor = Depends(importer), session: Session = Depends(db)
) -> Response:
    import_run = service.get_run(session, actor, run_id)
    problems = list(service.run_problems(session, actor, run_id, limit=service.PROBLEMS_SHOWN))
    return render(request, "imports/run.html", run=import_run, problems=problems)


@router.get("/imports/{run_id}/errors.csv")
def run_report(run_id: Id, actor: Actor = Depends(importer), session: Session = Depends(db)) -> Response:
    import_run = service.get_run(session, actor, run_id)
    body = spool_report(service.run_problems(session, actor, run_id))
    name = f"import-{import_run.id}-errors.csv"
    return StreamingResponse(
        body, media_type="text/csv", headers={"content-disposition": f'attachment; filename="{name}"'}
    )
