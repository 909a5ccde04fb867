"""Write-back to HubSpot: a property checked against the portal's own properties (it exists, a person
could edit it, its type holds the value) and the app's write scopes; the current values read by batch
read (`POST /crm/v3/objects/{companies,deals}/batch/read`), the writes sent by batch update
(`POST /crm/v3/objects/{companies,deals}/batch/update`, 100 records a call), all through
`HubSpotApi.call_json` (429 waits `Retry-After` or the 10-second window, a new token on 401) as the sync
does. A record HubSpot refuses is refused alone: a 207 answer names the records it could not update
(one archived meanwhile); a 400 for the whole batch (a value a property does not take) is sent again
record by record, so only the refused one fails. The rest is crm/writeback/, for any CRM."""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from ecoops.accounts.service import InvalidInput
from ecoops.config import Settings
from ecoops.crm.connections.models import CrmConnection
from ecoops.crm.hubspot.client import (
    API_ERRORS,
    HttpStatus,
    HubSpotApi,
    HubSpotAuthError,
    HubSpotUnavailable,
)
from ecoops.crm.hubspot.sync import connection_api, credentials_of
from ecoops.crm.writeback.provider import Choice, Provider
from ecoops.crm.writeback.targets import ACCOUNT, OPPORTUNITY, Target

BATCH = 100  # batch read and batch update take at most 100 records a request
OBJECTS = {ACCOUNT: "companies", OPPORTUNITY: "deals"}
LABELS = {ACCOUNT: "Company", OPPORTUNITY: "Deal"}
_ID = re.compile(r"[0-9]{1,20}")  # HubSpot's record ids are numbers
TEXT_FIELDS = ("text", "textarea")  # a `string` property's field types that hold our text
CHOICE_FIELDS = ("select", "radio")  # an `enumeration` property's, for a class or a status
FIELD_NAMES = {
    "text": "single-line text",
    "textarea": "multi-line text",
    "select": "dropdown select",
    "radio": "radio select",
}
MAX_LENGTH = 65_536  # HubSpot's most characters in a text property's value
REFUSED = frozenset({400, 404, 409})  # HubSpot's answers refusing what was sent (not a passing fault)


class HubSpotWriter:
    batch_size = BATCH

    def __init__(self, api: HubSpotApi) -> None:
        self.api = api

    def is_crm_id(self, record: str, record_id: str) -> bool:
        return bool(_ID.fullmatch(record_id))

    def object_name(self, record: str) -> str:
        return OBJECTS[record]

    def current(self, object_name: str, ids: list[str], fields: list[str]) -> dict[str, dict[str, str]]:
        """The batch's values now; a record HubSpot no longer has (archived) is not in its answer."""
        request = {"inputs": [{"id": i} for i in ids], "properties": fields}
        answer = self.api.call_json(
            f"crm.{object_name}.batch_api", "read", batch_read_input_simple_public_object_id=request
        )
        found: dict[str, dict[str, str]] = {}
        for record in answer.get("results") or []:
            values = record.get("properties") or {}
            found[str(record["id"])] = {f: "" if values.get(f) is None else str(values[f]) for f in fields}
        return found

    def write(self, object_name: str, records: list[tuple[str, dict[str, str]]]) -> list[str]:
        try:
            answer = self._update(object_name, records)
        except API_ERRORS as exc:
            status = int(getattr(exc, "status", 0) or 0)
            if status not in REFUSED:
                raise
            if len(records) == 1:
                return [_reason(getattr(exc, "body", "") or str(exc))]
            # One record's value refused the whole batch: each again alone, so only that one fails.
            return [self.write(object_name, [record])[0] for record in records]
        refused: dict[str, str] = {}
        for error in answer.get("errors") or []:  # a 207: the records it could not update
            for record_id in (error.get("context") or {}).get("ids") or []:
                refused[str(record_id)] = _reason(error)
        written = {str(r["id"]) for r in answer.get("results") or []}
        return [
            refused.get(i) or ("" if i in written else "HubSpot did not say it wrote this record")
            for i, _values in records
        ]

    def _update(self, object_name: str, records: list[tuple[str, dict[str, str]]]) -> dict[str, Any]:
        request = {"inputs": [{"id": i, "properties": values} for i, values in records]}
        answer: dict[str, Any] = self.api.call_json(
            f"crm.{object_name}.batch_api", "update", batch_input_simple_public_object_batch_input=request
        )
        return answer


def _reason(body: Any) -> str:
    """HubSpot's error (a body, or one of a 207's errors) as `CATEGORY: message`."""
    try:
        said = json.loads(body) if isinstance(body, str | bytes) else dict(body)
    except (TypeError, ValueError):
        return str(body)[:2000] or "HubSpot did not say why"
    return f"{said.get('category', 'ERROR')}: {said.get('message', '')}"[:2000]


def suggest(target: Target) -> str:
    """A property's internal name for the target: "partner_class" → ecoops_partner_class."""
    return f"ecoops_{target.stem}"


def _api(sessions: sessionmaker[Session], settings: Settings, connection: CrmConnection) -> HubSpotApi:
    return connection_api(sessions, settings, connection.id, credentials_of(settings, connection))


def check_property(api: HubSpotApi, scopes: str, target: Target, name: str) -> int:
    """The property's length, once the portal says it exists, can be written and holds the value's type
    (a text property; a dropdown or radio select for a class or a status), and the app may write the
    object."""
    object_name = OBJECTS[target.record]
    scope = f"crm.objects.{object_name}.write"
    if scope not in scopes.split():
        raise InvalidInput(
            f"crm_field: the app lacks the scope {scope}: add it to the private app's scopes (or the OAuth "
            "app's) and connect again"
        )
    properties = _properties(api, object_name)
    found = properties.get(name)
    where = f"{LABELS[target.record]} property {name}"
    fields = (*TEXT_FIELDS, *CHOICE_FIELDS) if target.choice else TEXT_FIELDS
    if found is None:
        fitting = sorted(n for n, p in properties.items() if _fits(p, fields))
        raise InvalidInput(
            f"crm_field: {object_name} have no property {name}: create it in HubSpot (Settings → "
            f"Properties → {LABELS[target.record]} properties → Create property, a single-line text "
            f"property with the internal name {suggest(target)})"
            + (f", or choose one of the portal's: {', '.join(fitting[:20])}" if fitting else "")
        )
    if not _writable(found):
        raise InvalidInput(
            f"crm_field: the {where} cannot be written (HubSpot calculates it or keeps it read-only)"
        )
    if not _fits(found, fields):
        wanted = ", ".join(FIELD_NAMES[f] for f in fields)
        raise InvalidInput(
            f"crm_field: the {where} is a {found.type} property shown as {found.field_type}; "
            f"{target.label} needs {wanted}"
        )
    return MAX_LENGTH


def _properties(api: HubSpotApi, object_name: str) -> dict[str, Any]:
    """The portal's properties of the object, by internal name."""
    try:
        described = api.call("crm.properties.core_api", "get_all", object_type=object_name)
    except (*API_ERRORS, HttpStatus, HubSpotUnavailable, HubSpotAuthError) as exc:  # type: ignore[misc]
        raise InvalidInput(f"crm_field: HubSpot could not be asked about {object_name}: {exc}") from exc
    return {p.name: p for p in described.results or []}


def _writable(found: Any) -> bool:
    meta = found.modification_metadata
    return not (found.calculated or (meta is not None and meta.read_only_value))


def _fits(found: Any, fields: tuple[str, ...]) -> bool:
    """Writable, and a text property (`string`) or, where `fields` allow, a select (`enumeration`)."""
    kind = "enumeration" if found.field_type in CHOICE_FIELDS else "string"
    return _writable(found) and found.field_type in fields and found.type == kind


def _check(settings: Settings, connection: CrmConnection, target: Target, name: str) -> int:
    api = HubSpotApi(settings, credentials_of(settings, connection))
    return check_property(api, connection.scopes, target, name)


def choices(settings: Settings, connection: CrmConnection) -> dict[str, list[Choice]]:
    """The companies' and deals' properties that can take a value: text ones, and selects (a class or a
    status). Asked once, without waiting out HubSpot's faults: a page waits on it."""
    api = HubSpotApi(
        settings.model_copy(update={"crm_max_attempts": 1}), credentials_of(settings, connection)
    )
    found: dict[str, list[Choice]] = {}
    for record, object_name in OBJECTS.items():
        properties = _properties(api, object_name).values()
        found[record] = sorted(
            (
                Choice(p.name, p.label or p.name, FIELD_NAMES[p.field_type], p.field_type in CHOICE_FIELDS)
                for p in properties
                if _fits(p, (*TEXT_FIELDS, *CHOICE_FIELDS))
            ),
            key=lambda c: (c.label.lower(), c.name),
        )
    return found


HUBSPOT = Provider(
    key="hubspot",
    label="HubSpot",
    objects=LABELS,
    field_word="property",
    fields_word="properties",
    create_hint="a single-line or multi-line text property",
    batch=BATCH,
    writer=lambda sessions, settings, connection: HubSpotWriter(_api(sessions, settings, connection)),
    check=_check,
    suggest=suggest,
    unavailable=(HubSpotUnavailable, HubSpotAuthError),
    choices=choices,
)
