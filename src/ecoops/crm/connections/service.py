"""What an admin does with any CRM connection (Salesforce, HubSpot): disconnect, the schedule, the
stage map, a sync on demand (a job for the worker) or on a schedule, the runs and checkpoints.
Connecting is each provider's own (crm/salesforce/service.py, crm/hubspot/service.py). Every change
is audited under the provider's name (`salesforce.schedule_set`, `hubspot.stage_mapped`…)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor, cli_actor
from ecoops.config import Settings
from ecoops.crm.connections.models import CrmConnection, StageMapping, SyncCheckpoint, SyncRun
from ecoops.jobs.models import Job
from ecoops.jobs.names import SYNC_JOBS, crm_sync_subject
from ecoops.jobs.queue import active_job, enqueue
from ecoops.pagination import Page, paginate
from ecoops.permissions import NotFound, Permission, require

LABELS = {"salesforce": "Salesforce", "hubspot": "HubSpot"}


def required(name: str, value: str, most: int = 300) -> str:
    """A connect form's field, stripped: refused when empty or longer than `most`, naming the field."""
    value = value.strip()
    if not value:
        raise InvalidInput(f"{name}: required")
    if len(value) > most:
        raise InvalidInput(f"{name}: at most {most} characters")
    return value


def connection(session: Session, actor: Actor, provider: str) -> CrmConnection | None:
    require(actor, Permission.MANAGE_CRM_CONNECTIONS)
    return session.scalar(select(CrmConnection).where(CrmConnection.provider == provider))


def must(session: Session, actor: Actor, provider: str) -> CrmConnection:
    row = connection(session, actor, provider)
    if row is None or row.status != "connected":
        raise NotFound(f"{LABELS[provider]} is not connected: connect it first")
    return row


def disconnect(session: Session, actor: Actor, provider: str) -> None:
    """Forget the secrets (the synced records, checkpoints and runs stay)."""
    row = connection(session, actor, provider)
    if row is None:
        raise NotFound(f"{LABELS[provider]} is not connected")
    row.client_secret = row.private_key = row.refresh_token = row.access_token = ""
    row.status = "disconnected"
    audit.record(session, actor, f"{provider}.disconnected", "crm_connection", row.id)


def set_schedule(session: Session, actor: Actor, provider: str, every_minutes: int) -> None:
    row = must(session, actor, provider)
    if not 0 <= every_minutes <= 7 * 24 * 60:
        raise InvalidInput("sync_every_minutes: 0 (on demand only) to 10080 (a week)")
    row.sync_every_minutes = every_minutes
    audit.record(
        session, actor, f"{provider}.schedule_set", "crm_connection", row.id, every_minutes=every_minutes
    )


def stage_mappings(session: Session, actor: Actor, provider: str) -> list[StageMapping]:
    row = connection(session, actor, provider)
    if row is None:
        return []
    return list(
        session.scalars(
            select(StageMapping).where(StageMapping.connection_id == row.id).order_by(StageMapping.stage)
        )
    )


def set_stage(
    session: Session, actor: Actor, provider: str, stage_id: int, *, is_closed: bool, is_won: bool
) -> StageMapping:
    """An admin's reading of a stage; it stands over the CRM's own until set back to the CRM's."""
    row = must(session, actor, provider)
    mapping = session.get(StageMapping, stage_id)
    if mapping is None or mapping.connection_id != row.id:
        raise NotFound(f"no stage {stage_id}")
    if is_won and not is_closed:
        raise InvalidInput("is_won: a won stage is closed")
    mapping.is_closed, mapping.is_won = is_closed, is_won
    as_crm = (is_closed, is_won) == (mapping.crm_is_closed, mapping.crm_is_won)
    mapping.edited_by = "" if as_crm else actor.label[:200]
    audit.record(
        session,
        actor,
        f"{provider}.stage_mapped",
        "crm_stage_mapping",
        mapping.id,
        stage=mapping.stage,
        is_closed=is_closed,
        is_won=is_won,
    )
    return mapping


def store_stages(
    session: Session, connection_id: int, told: dict[str, tuple[bool, bool]]
) -> dict[str, tuple[bool, bool]]:
    """The CRM's stages (stage → closed, won) stored as the stage map; an admin's edit stands. The map
    as it now reads, every stored stage included."""
    stored = {
        m.stage: m
        for m in session.scalars(select(StageMapping).where(StageMapping.connection_id == connection_id))
    }
    for stage, (closed, won) in told.items():
        mapping = stored.get(stage)
        if mapping is None:
            mapping = StageMapping(connection_id=connection_id, stage=stage[:255], edited_by="")
            session.add(mapping)
            stored[stage] = mapping
        mapping.crm_is_closed, mapping.crm_is_won = closed, won
        if not mapping.edited_by:
            mapping.is_closed, mapping.is_won = closed, won
    return {m.stage: (m.is_closed, m.is_won) for m in stored.values()}


def queue_sync(session: Session, actor: Actor, provider: str, *, trigger: str = "manual") -> Job | None:
    """Queue a sync for the worker; None when one is queued or running already."""
    row = must(session, actor, provider)
    subject = crm_sync_subject(row.id)
    if active_job(session, subject) is not None:
        return None
    return enqueue(session, actor, SYNC_JOBS[provider], subject=subject, arguments={"trigger": trigger})


def queue_scheduled_syncs(session: Session, _settings: Settings, now: datetime) -> int:
    """Worker tick job: queue each connection's sync when its last one started `sync_every_minutes`
    ago or more. How many were queued."""
    queued = 0
    for row in session.scalars(
        select(CrmConnection)
        .where(CrmConnection.status == "connected", CrmConnection.sync_every_minutes > 0)
        .order_by(CrmConnection.id)
    ):
        last = session.scalar(
            select(SyncRun.started_at)
            .where(SyncRun.connection_id == row.id)
            .order_by(SyncRun.id.desc())
            .limit(1)
        )
        if last is not None and _aware(last) > now - timedelta(minutes=row.sync_every_minutes):
            continue
        actor = cli_actor(f"{row.provider} schedule")
        queued += queue_sync(session, actor, row.provider, trigger="schedule") is not None
    return queued


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def runs(
    session: Session, actor: Actor, provider: str, *, page: int = 1, per_page: int = 20
) -> Page[SyncRun]:
    require(actor, Permission.MANAGE_CRM_CONNECTIONS)
    query = select(SyncRun).join(CrmConnection).where(CrmConnection.provider == provider)
    return paginate(session, query.order_by(SyncRun.id.desc()), page=page, per_page=per_page)


def checkpoints(session: Session, actor: Actor, provider: str) -> list[SyncCheckpoint]:
    require(actor, Permission.MANAGE_CRM_CONNECTIONS)
    query = select(SyncCheckpoint).join(CrmConnection).where(CrmConnection.provider == provider)
    return list(session.scalars(query.order_by(SyncCheckpoint.object_name)))
