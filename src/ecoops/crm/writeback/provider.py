"""Write-back for one CRM connection, the same for every CRM: a `Provider` says what differs (its
writer, how it checks a field, its words for records and fields); turning a field on, queueing a run
for the worker, running one, and what the provider's page shows are here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor
from ecoops.config import Settings
from ecoops.crm.connections.models import CrmConnection
from ecoops.crm.connections.secrets import SecretUnreadable
from ecoops.crm.connections.sync import connected
from ecoops.crm.writeback import service
from ecoops.crm.writeback.models import WritebackField, WritebackRun
from ecoops.crm.writeback.run import Progress, WritebackRunner, Writer, enabled_fields
from ecoops.crm.writeback.targets import Target
from ecoops.db import transaction
from ecoops.jobs.models import Job
from ecoops.jobs.names import WRITEBACK_JOBS, writeback_subject
from ecoops.jobs.queue import active_job, enqueue, latest_job
from ecoops.permissions import NotFound, Permission, require


@dataclass(frozen=True)
class Choice:
    """A CRM field that can hold write-back's values, as the CRM lists it."""

    name: str
    label: str
    kind: str  # as the CRM's admins know it: "single-line text"
    words_only: bool  # a pick-list: it holds a class or a status, not names


@dataclass(frozen=True)
class Provider:
    key: str  # CrmConnection.provider: salesforce | hubspot
    label: str  # Salesforce | HubSpot
    objects: dict[str, str]  # targets' record kind → the CRM's object, as its admins know it
    field_word: str  # field | property
    fields_word: str  # fields | properties
    create_hint: str  # what to create in the CRM, for the page: "a custom Text or Text Area field"
    batch: int  # records per write call
    writer: Callable[[sessionmaker[Session], Settings, CrmConnection], Writer]
    check: Callable[[Settings, CrmConnection, Target, str], int]  # the field's length, or InvalidInput
    suggest: Callable[[Target], str]  # a field name to suggest for a target
    unavailable: tuple[type[Exception], ...]  # the CRM could not be reached or kept refusing
    # The fields that fit, per record kind, to choose from on a page (None: the CRM offers no list).
    choices: Callable[[Settings, CrmConnection], dict[str, list[Choice]]] | None = None

    @property
    def page(self) -> str:
        return f"/crm/{self.key}"

    @property
    def job(self) -> str:
        return WRITEBACK_JOBS[self.key]


def connection_of(session: Session, actor: Actor, crm: Provider) -> CrmConnection:
    require(actor, Permission.MANAGE_CRM_CONNECTIONS)
    return connected(session, crm.key, crm.label)


def set_field(
    session: Session,
    actor: Actor,
    settings: Settings,
    crm: Provider,
    *,
    target: str,
    crm_field: str,
    enabled: bool,
) -> WritebackField:
    connection = connection_of(session, actor, crm)

    def check(spec: Target, name: str) -> int:
        try:
            return crm.check(settings, connection, spec, name)
        except SecretUnreadable as exc:
            raise InvalidInput(f"crm_field: {exc}") from exc

    return service.set_field(
        session,
        actor,
        connection.id,
        target=target,
        crm_field=crm_field,
        enabled=enabled,
        check=check,
        suggest=crm.suggest,
    )


def choices(session: Session, actor: Actor, settings: Settings, crm: Provider) -> dict[str, list[Choice]]:
    """The CRM's fields that could take write-back's values, per record kind (InvalidInput when the
    CRM cannot be asked)."""
    connection = connection_of(session, actor, crm)
    if crm.choices is None:
        raise NotFound(f"{crm.label} offers no list of its {crm.field_word} names here")
    try:
        return crm.choices(settings, connection)
    except SecretUnreadable as exc:
        raise InvalidInput(f"crm_field: {exc}") from exc


def queue_writeback(session: Session, actor: Actor, crm: Provider, *, dry_run: bool) -> Job | None:
    """Queue a write-back (or a dry run) for the worker; None when one is queued or running already."""
    connection = connection_of(session, actor, crm)
    if not enabled_fields(session, connection.id):
        raise InvalidInput("crm_field: turn write-back on for a field first")
    subject = writeback_subject(connection.id)
    if active_job(session, subject) is not None:
        return None
    return enqueue(
        session, actor, crm.job, subject=subject, arguments={"dry_run": dry_run, "trigger": "manual"}
    )


def has_fields(sessions: sessionmaker[Session], crm: Provider) -> bool:
    with transaction(sessions) as session:
        try:
            return bool(enabled_fields(session, connected(session, crm.key, crm.label).id))
        except NotFound:
            return False


def run_writeback(
    sessions: sessionmaker[Session],
    settings: Settings,
    actor: Actor,
    crm: Provider,
    *,
    trigger: str,
    dry_run: bool,
    progress: Progress | None = None,
) -> WritebackRun:
    with transaction(sessions) as session:
        connection = connected(session, crm.key, crm.label)
        connection_id = connection.id
        writer = crm.writer(sessions, settings, connection)
    runner = WritebackRunner(
        sessions, settings, actor, connection_id, writer, trigger=trigger, dry_run=dry_run, progress=progress
    )
    return runner.run()


def overview(
    session: Session, actor: Actor, crm: Provider, connection: CrmConnection | None
) -> dict[str, Any]:
    """What the provider page's write-back section shows (crm/_writeback.html)."""
    if connection is None or connection.status != "connected":
        return {}
    last = service.last_real_run(session, actor, connection.id)
    return {
        "crm": crm,
        "fields": service.field_rows(session, actor, connection.id),
        "runs": service.runs(session, actor, connection.id, page=1, per_page=10).items,
        "conflicts": service.items(session, actor, last.id, page=1, per_page=50) if last else None,
        "last": last,
        "job": latest_job(session, actor, writeback_subject(connection.id)),
    }
