"""The forms every CRM connection page has (admins): sync now, the schedule, a stage's reading, and
disconnect. Each posts, then comes back to the provider's page with a message saying what happened.
A provider's page module (crm/salesforce/pages.py, crm/hubspot/pages.py) adds its own connect forms."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor
from ecoops.crm.connections import service
from ecoops.crm.connections.models import CrmConnection
from ecoops.crm.connections.secrets import SecretUnreadable
from ecoops.jobs.names import crm_sync_subject
from ecoops.jobs.queue import latest_job
from ecoops.permissions import NotFound, Permission
from ecoops.web.changes import change_and_return
from ecoops.web.deps import db, page_permission
from ecoops.web.fields import MAX_ID

admin = page_permission(Permission.MANAGE_CRM_CONNECTIONS)


def sync_sections(
    session: Session, actor: Actor, provider: str, connection: CrmConnection | None, page: int, per_page: int
) -> dict[str, Any]:
    """What the shared sections of a provider's page show (crm/_sync_sections.html): the sync job under
    way, the stage map, the checkpoints and a page of runs."""
    return {
        "job": latest_job(session, actor, crm_sync_subject(connection.id)) if connection else None,
        "stages": service.stage_mappings(session, actor, provider),
        "checkpoints": service.checkpoints(session, actor, provider),
        "page": service.runs(session, actor, provider, page=page, per_page=per_page),
    }


def done(request: Request, work: Callable[[], str], page: str) -> Response:
    return change_and_return(request, work, page, (InvalidInput, NotFound, SecretUnreadable))


def _stage_id(text: str) -> int:
    """The path's stage id (read by hand: its name differs per provider)."""
    if not text.isdigit() or not 1 <= int(text) <= MAX_ID:
        raise NotFound(f"no stage {text[:20]}")
    return int(text)


def add_sync_routes(router: APIRouter, provider: str, page: str, *, stage_param: str = "stage_id") -> None:
    """POST {page}/sync, /schedule, /stages/{<stage_param>} and /disconnect for `provider`'s connection
    (the stage id's name differs per provider, so the access matrix can give each its own stage)."""

    @router.post(f"{page}/sync", name=f"{provider}_sync_now")
    def sync_now(request: Request, actor: Actor = Depends(admin), session: Session = Depends(db)) -> Response:
        def work() -> str:
            job = service.queue_sync(session, actor, provider)
            if job is None:
                return "A sync is already queued or running; its progress is shown below."
            return "Sync queued: the worker runs it; its progress is shown below."

        return done(request, work, page)

    @router.post(f"{page}/schedule", name=f"{provider}_schedule")
    def schedule(
        request: Request,
        sync_every_minutes: int = Form(..., ge=0, le=10080),
        actor: Actor = Depends(admin),
        session: Session = Depends(db),
    ) -> Response:
        def work() -> str:
            service.set_schedule(session, actor, provider, sync_every_minutes)
            if not sync_every_minutes:
                return "Scheduled syncs are off: sync on demand."
            return f"The worker syncs every {sync_every_minutes} minutes."

        return done(request, work, page)

    @router.post(f"{page}/stages/{{{stage_param}}}", name=f"{provider}_map_stage")
    def map_stage(
        request: Request,
        outcome: str = Form(..., pattern="^(open|won|lost)$"),
        actor: Actor = Depends(admin),
        session: Session = Depends(db),
    ) -> Response:
        def work() -> str:
            stage_id = _stage_id(request.path_params[stage_param])
            mapping = service.set_stage(
                session, actor, provider, stage_id, is_closed=outcome != "open", is_won=outcome == "won"
            )
            return f"Stage {mapping.stage} counts as {outcome} from the next sync of each deal in it."

        return done(request, work, page)

    @router.post(f"{page}/disconnect", name=f"{provider}_disconnect")
    def disconnect(
        request: Request, actor: Actor = Depends(admin), session: Session = Depends(db)
    ) -> Response:
        def work() -> str:
            service.disconnect(session, actor, provider)
            return "Disconnected: the secrets are forgotten; the synced records stay."

        return done(request, work, page)
