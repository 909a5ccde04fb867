"""The write-back section's forms on a CRM's page (admins), for any CRM: a field per target turned on
or off (checked by the CRM first), a write-back or dry run on demand, and each run's page with its
changes, conflicts and failures."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor
from ecoops.config import Settings
from ecoops.crm.connections.pages import admin, done
from ecoops.crm.writeback import provider, service
from ecoops.crm.writeback.targets import TARGETS
from ecoops.permissions import NotFound
from ecoops.web.deps import app_settings, db
from ecoops.web.fields import MAX_ID, PageNumber
from ecoops.web.templating import render


def _run_id(text: str) -> int:
    """The path's run id (read by hand: its name differs per provider)."""
    if not text.isdigit() or not 1 <= int(text) <= MAX_ID:
        raise NotFound(f"no write-back run {text[:20]}")
    return int(text)


def add_writeback_routes(
    router: APIRouter,
    crm: provider.Provider,
    *,
    target_param: str = "target",
    run_param: str = "writeback_run_id",
) -> None:
    """POST {page}/writeback/fields/{<target_param>}, /writeback/run and GET /writeback/runs/{<run_param>}
    (the parameters' names differ per provider, so the access matrix can give each its own)."""
    base = crm.page

    @router.post(f"{base}/writeback/fields/{{{target_param}}}", name=f"{crm.key}_writeback_field")
    def set_field(
        request: Request,
        crm_field: str = Form("", max_length=120),
        enabled: bool = Form(False),
        actor: Actor = Depends(admin),
        session: Session = Depends(db),
        settings: Settings = Depends(app_settings),
    ) -> Response:
        def work() -> str:
            target = request.path_params[target_param]
            row = provider.set_field(
                session, actor, settings, crm, target=target, crm_field=crm_field, enabled=enabled
            )
            label = TARGETS[target].label
            if row.enabled:
                return f"{label} is written to {row.crm_field} from the next write-back."
            return f"{label} is no longer written."

        return done(request, work, base)

    @router.post(f"{base}/writeback/run", name=f"{crm.key}_writeback_run")
    def run_now(
        request: Request,
        dry_run: bool = Form(False),
        actor: Actor = Depends(admin),
        session: Session = Depends(db),
    ) -> Response:
        def work() -> str:
            job = provider.queue_writeback(session, actor, crm, dry_run=dry_run)
            if job is None:
                return "A write-back is already queued or running; its progress is shown below."
            what = "Dry run" if dry_run else "Write-back"
            return f"{what} queued: the worker runs it; its outcome is listed under Write-back runs."

        return done(request, work, base)

    if crm.choices is not None:

        @router.get(f"{base}/writeback/choices", name=f"{crm.key}_writeback_choices")
        def choices_page(
            request: Request,
            actor: Actor = Depends(admin),
            session: Session = Depends(db),
            settings: Settings = Depends(app_settings),
        ) -> Response:
            """The CRM's fields that fit, each with a button per target it can take."""
            try:
                found, error = provider.choices(session, actor, settings, crm), ""
            except InvalidInput as exc:
                found, error = {}, str(exc).removeprefix("crm_field: ")
            return render(
                request,
                "crm/writeback_choices.html",
                crm=crm,
                choices=found,
                error=error,
                targets=service.field_rows(session, actor, provider.connection_of(session, actor, crm).id),
            )

    @router.get(f"{base}/writeback/runs/{{{run_param}}}", name=f"{crm.key}_writeback_run_page")
    def run_page(
        request: Request,
        page: PageNumber = 1,
        actor: Actor = Depends(admin),
        session: Session = Depends(db),
        settings: Settings = Depends(app_settings),
    ) -> Response:
        run = service.run_of(session, actor, _run_id(request.path_params[run_param]), crm.key)
        return render(
            request,
            "crm/writeback_run.html",
            run=run,
            crm=crm,
            page=service.items(session, actor, run.id, page=page, per_page=settings.page_size),
        )
