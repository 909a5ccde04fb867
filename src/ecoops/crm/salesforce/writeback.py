"""Write-back to Salesforce: fields checked against `describe`, the current values read by SOQL
(`WHERE Id IN (…)`, the batch's ids), the writes sent with the sObject Collections API
(`PATCH /services/data/vXX.X/composite/sobjects`, 200 records a call, `allOrNone` false: each record
succeeds or fails on its own), all through `SalesforceApi.call` (429/REQUEST_LIMIT_EXCEEDED waits,
a new token on 401) as the sync does. The rest — what to write, the ledger, conflicts, dry runs — is
crm/writeback/, for any CRM."""

from __future__ import annotations

import re
from typing import Any

from simple_salesforce.exceptions import SalesforceError
from sqlalchemy.orm import Session, sessionmaker

from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor
from ecoops.config import Settings
from ecoops.crm.connections.models import CrmConnection
from ecoops.crm.connections.secrets import SecretUnreadable
from ecoops.crm.salesforce.client import SalesforceApi, SalesforceAuthError, SalesforceUnavailable
from ecoops.crm.salesforce.sync import connected, credentials_of
from ecoops.crm.writeback import service
from ecoops.crm.writeback.models import WritebackField, WritebackRun
from ecoops.crm.writeback.run import Progress, WritebackRunner, enabled_fields
from ecoops.crm.writeback.targets import ACCOUNT, OPPORTUNITY, Target
from ecoops.db import transaction
from ecoops.jobs.models import Job
from ecoops.jobs.names import SALESFORCE_WRITEBACK, salesforce_writeback_subject
from ecoops.jobs.queue import active_job, enqueue, latest_job
from ecoops.permissions import NotFound, Permission, require

BATCH = 200  # the sObject Collections API's most records per call
OBJECTS = {ACCOUNT: "Account", OPPORTUNITY: "Opportunity"}
KEY_PREFIX = {"Account": "001", "Opportunity": "006"}  # every Salesforce id starts with its object's
_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")
TYPE_NAMES = {"string": "Text", "textarea": "Text Area", "picklist": "Picklist"}


class SalesforceWriter:
    batch_size = BATCH

    def __init__(self, api: SalesforceApi) -> None:
        self.api = api

    def is_crm_id(self, record: str, record_id: str) -> bool:
        return bool(_ID.fullmatch(record_id)) and record_id.startswith(KEY_PREFIX[OBJECTS[record]])

    def object_name(self, record: str) -> str:
        return OBJECTS[record]

    def current(self, object_name: str, ids: list[str], fields: list[str]) -> dict[str, dict[str, str]]:
        quoted = ", ".join(f"'{i}'" for i in ids)  # ids are checked by is_crm_id: letters and digits
        soql = f"SELECT Id, {', '.join(fields)} FROM {object_name} WHERE Id IN ({quoted})"  # noqa: S608
        answer = self.api.call(lambda sf: sf.query_all(soql))
        return {
            str(r["Id"]): {f: "" if r.get(f) is None else str(r[f]) for f in fields}
            for r in answer["records"]
        }

    def write(self, object_name: str, records: list[tuple[str, dict[str, str]]]) -> list[str]:
        body = {
            "allOrNone": False,
            "records": [
                {"attributes": {"type": object_name}, "id": record_id, **values}
                for record_id, values in records
            ],
        }
        answer = self.api.call(lambda sf: sf.restful("composite/sobjects", method="PATCH", json=body))
        results: list[dict[str, Any]] = list(answer or [])
        if len(results) != len(records):
            raise SalesforceUnavailable(
                f"Salesforce answered {len(results)} results for {len(records)} records written"
            )
        return ["" if r.get("success") else _reasons(r.get("errors") or []) for r in results]


def _reasons(errors: list[dict[str, Any]]) -> str:
    said = [f"{e.get('statusCode', 'ERROR')}: {e.get('message', '')}" for e in errors]
    return "; ".join(said)[:2000] or "Salesforce did not say why"


def _api(settings: Settings, connection: CrmConnection) -> SalesforceApi:
    return SalesforceApi(settings, credentials_of(settings, connection))


def check_field(api: SalesforceApi, target: Target, crm_field: str) -> int:
    """The field's length, once `describe` says it exists, can be written and holds the value's type."""
    object_name = OBJECTS[target.record]
    try:
        described = api.call(lambda sf: sf.restful(f"sobjects/{object_name}/describe"))
    except (SalesforceUnavailable, SalesforceAuthError, SalesforceError) as exc:
        raise InvalidInput(f"crm_field: Salesforce could not be asked about {object_name}: {exc}") from exc
    fields = {str(f["name"]).lower(): f for f in (described or {}).get("fields", [])}
    found = fields.get(crm_field.lower())
    where = f"{object_name}.{crm_field}"
    if found is None:
        raise InvalidInput(
            f"crm_field: {object_name} has no field {crm_field}: create it in Salesforce (Setup → Object "
            f"Manager → {object_name} → Fields & Relationships, e.g. a Text field {target.example}), "
            "or check the integration user can see it"
        )
    if not found.get("updateable"):
        raise InvalidInput(
            f"crm_field: {where} cannot be written by the integration user (a formula or read-only "
            "field, or no edit access in its field-level security)"
        )
    kind = str(found.get("type", ""))
    if kind not in target.types:
        wanted = ", ".join(TYPE_NAMES[t] for t in target.types)
        raise InvalidInput(
            f"crm_field: {where} is a {TYPE_NAMES.get(kind, kind)} field; {target.label} needs {wanted}"
        )
    return int(found.get("length") or 255)


def _connection(session: Session, actor: Actor) -> CrmConnection:
    require(actor, Permission.MANAGE_CRM_CONNECTIONS)
    return connected(session)


def set_field(
    session: Session, actor: Actor, settings: Settings, *, target: str, crm_field: str, enabled: bool
) -> WritebackField:
    connection = _connection(session, actor)

    def check(spec: Target, name: str) -> int:
        try:
            api = _api(settings, connection)
        except SecretUnreadable as exc:
            raise InvalidInput(f"crm_field: {exc}") from exc
        return check_field(api, spec, name)

    return service.set_field(
        session, actor, connection.id, target=target, crm_field=crm_field, enabled=enabled, check=check
    )


def queue_writeback(session: Session, actor: Actor, *, dry_run: bool) -> Job | None:
    """Queue a write-back (or a dry run) for the worker; None when one is queued or running already."""
    connection = _connection(session, actor)
    if not enabled_fields(session, connection.id):
        raise InvalidInput("crm_field: turn write-back on for a field first")
    subject = salesforce_writeback_subject(connection.id)
    if active_job(session, subject) is not None:
        return None
    return enqueue(
        session,
        actor,
        SALESFORCE_WRITEBACK,
        subject=subject,
        arguments={"dry_run": dry_run, "trigger": "manual"},
    )


def has_fields(sessions: sessionmaker[Session]) -> bool:
    with transaction(sessions) as session:
        try:
            return bool(enabled_fields(session, connected(session).id))
        except NotFound:
            return False


def run_writeback(
    sessions: sessionmaker[Session],
    settings: Settings,
    actor: Actor,
    *,
    trigger: str,
    dry_run: bool,
    progress: Progress | None = None,
    api: SalesforceApi | None = None,
) -> WritebackRun:
    with transaction(sessions) as session:
        connection = connected(session)
        connection_id = connection.id
        api = api or _api(settings, connection)
    runner = WritebackRunner(
        sessions,
        settings,
        actor,
        connection_id,
        SalesforceWriter(api),
        trigger=trigger,
        dry_run=dry_run,
        progress=progress,
    )
    return runner.run()


def overview(session: Session, actor: Actor, connection: CrmConnection | None) -> dict[str, Any]:
    """What the Salesforce page's write-back section shows."""
    if connection is None or connection.status != "connected":
        return {}
    last = service.last_real_run(session, actor, connection.id)
    return {
        "fields": service.field_rows(session, actor, connection.id),
        "runs": service.runs(session, actor, connection.id, page=1, per_page=10).items,
        "conflicts": service.items(session, actor, last.id, page=1, per_page=50) if last else None,
        "last": last,
        "job": latest_job(session, actor, salesforce_writeback_subject(connection.id)),
    }
