"""Write-back as an admin manages it, for any CRM: which target goes to which field (off until turned on
per field, each change audited), the runs, and their items (changes, conflicts, failures)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor
from ecoops.audit import utcnow
from ecoops.crm.connections.models import CrmConnection
from ecoops.crm.writeback.models import WritebackField, WritebackItem, WritebackRun
from ecoops.crm.writeback.targets import TARGETS, Target
from ecoops.pagination import Page, paginate
from ecoops.permissions import NotFound, Permission, require

FIELD_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,119}")
Check = Callable[[Target, str], int]  # the CRM's verdict on a field for a target: its length, or InvalidInput


@dataclass(frozen=True)
class FieldRow:
    target: Target
    field: WritebackField | None


def field_rows(session: Session, actor: Actor, connection_id: int) -> list[FieldRow]:
    require(actor, Permission.MANAGE_CRM_CONNECTIONS)
    stored = {
        f.target: f
        for f in session.scalars(select(WritebackField).where(WritebackField.connection_id == connection_id))
    }
    return [FieldRow(t, stored.get(key)) for key, t in TARGETS.items()]


def set_field(
    session: Session,
    actor: Actor,
    connection_id: int,
    *,
    target: str,
    crm_field: str,
    enabled: bool,
    check: Check,
    suggest: Callable[[Target], str],
) -> WritebackField:
    """Name the CRM field for `target` and turn it on or off; a field turned on is checked by the CRM
    first (it exists, it can be written, its type holds the value)."""
    require(actor, Permission.MANAGE_CRM_CONNECTIONS)
    spec = TARGETS.get(target)
    if spec is None:
        raise NotFound(f"no write-back target {target!r}")
    name, example = crm_field.strip(), suggest(spec)
    if name and not FIELD_NAME.fullmatch(name):
        raise InvalidInput(f"crm_field: {name!r} is not a field's API name (e.g. {example})")
    if enabled and not name:
        raise InvalidInput(f"crm_field: name the field {spec.label} goes to (e.g. {example})")
    row = session.scalar(
        select(WritebackField).where(
            WritebackField.connection_id == connection_id, WritebackField.target == target
        )
    )
    if row is None:
        row = WritebackField(connection_id=connection_id, target=target, crm_field=name)
        session.add(row)
    if enabled:
        row.field_length = check(spec, name)
    row.crm_field, row.enabled = name or row.crm_field, enabled
    row.updated_by, row.updated_at = actor.label[:200], utcnow()
    session.flush()
    audit.record(
        session,
        actor,
        "crm.writeback_field_set",
        "crm_writeback_field",
        row.id,
        target=target,
        crm_field=row.crm_field,
        enabled=enabled,
    )
    return row


def runs(
    session: Session, actor: Actor, connection_id: int, *, page: int, per_page: int
) -> Page[WritebackRun]:
    require(actor, Permission.MANAGE_CRM_CONNECTIONS)
    statement = (
        select(WritebackRun)
        .where(WritebackRun.connection_id == connection_id)
        .order_by(WritebackRun.id.desc())
    )
    return paginate(session, statement, page=page, per_page=per_page)


def run_of(session: Session, actor: Actor, run_id: int, provider: str) -> WritebackRun:
    """A run of `provider`'s connection (another CRM's run is not found under this one's page)."""
    require(actor, Permission.MANAGE_CRM_CONNECTIONS)
    run = session.scalar(
        select(WritebackRun)
        .join(CrmConnection, CrmConnection.id == WritebackRun.connection_id)
        .where(WritebackRun.id == run_id, CrmConnection.provider == provider)
    )
    if run is None:
        raise NotFound(f"no write-back run {run_id}")
    return run


def items(session: Session, actor: Actor, run_id: int, *, page: int, per_page: int) -> Page[WritebackItem]:
    require(actor, Permission.MANAGE_CRM_CONNECTIONS)
    statement = (
        select(WritebackItem)
        .where(WritebackItem.run_id == run_id)
        .order_by(WritebackItem.outcome, WritebackItem.object_name, WritebackItem.record_id, WritebackItem.id)
    )
    return paginate(session, statement, page=page, per_page=per_page)


def last_real_run(session: Session, actor: Actor, connection_id: int) -> WritebackRun | None:
    """The latest run that was not a dry run: its conflicts are those standing now."""
    require(actor, Permission.MANAGE_CRM_CONNECTIONS)
    return session.scalar(
        select(WritebackRun)
        .where(WritebackRun.connection_id == connection_id, WritebackRun.dry_run.is_(False))
        .order_by(WritebackRun.id.desc())
        .limit(1)
    )
