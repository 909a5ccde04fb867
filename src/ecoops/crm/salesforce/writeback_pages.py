"""The Salesforce page's write-back section (admins): a field per target turned on or off (checked
against Salesforce's describe), a write-back or dry run on demand, and each run's changes, conflicts
and failures."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from ecoops.actors import Actor
from ecoops.config import Settings
from ecoops.crm.connections.pages import admin, done
from ecoops.crm.salesforce import writeback
from ecoops.crm.salesforce.pages import PAGE
from ecoops.crm.writeback import service
from ecoops.crm.writeback.targets import TARGETS
from ecoops.web.deps import app_settings, db
from ecoops.web.fields import Id, PageNumber
from ecoops.web.security import csrf_protect
from ecoops.web.templating import render

router = APIRouter(dependencies=[Depends(csrf_protect)])


@router.post(f"{PAGE}/writeback/fields/{{target}}")
def set_field(
    request: Request,
    target: str,
    crm_field: str = Form("", max_length=120),
    enabled: bool = Form(False),
    actor: Actor = Depends(admin),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    def work() -> str:
        row = writeback.set_field(
            session, actor, settings, target=target, crm_field=crm_field, enabled=enabled
        )
        label = TARGETS[target].label
        if row.enabled:
            return f"{label} is written to {row.crm_field} from the next write-back."
        return f"{label} is no longer written."

    return done(request, work, PAGE)


@router.post(f"{PAGE}/writeback/run")
def run_now(
    request: Request,
    dry_run: bool = Form(False),
    actor: Actor = Depends(admin),
    session: Session = Depends(db),
) -> Response:
    def work() -> str:
        job = writeback.queue_writeback(session, actor, dry_run=dry_run)
        if job is None:
            return "A write-back is already queued or running; its progress is shown below."
        what = "Dry run" if dry_run else "Write-back"
        return f"{what} queued: the worker runs it; its outcome is listed under Write-back runs."

    return done(request, work, PAGE)


@router.get(f"{PAGE}/writeback/runs/{{writeback_run_id}}")
def run_page(
    request: Request,
    writeback_run_id: Id,
    page: PageNumber = 1,
    actor: Actor = Depends(admin),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    run = service.run_of(session, actor, writeback_run_id)
    return render(
        request,
        "crm/writeback_run.html",
        run=run,
        page=service.items(session, actor, run.id, page=page, per_page=settings.page_size),
    )
