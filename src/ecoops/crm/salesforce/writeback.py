"""Write-back to Salesforce: fields checked against `describe`, the current values read by SOQL
(`WHERE Id IN (…)`, the batch's ids), the writes sent with the sObject Collections API
(`PATCH /services/data/vXX.X/composite/sobjects`, 200 records a call, `allOrNone` false: each record
succeeds or fails on its own), all through `SalesforceApi.call` (429/REQUEST_LIMIT_EXCEEDED waits,
a new token on 401) as the sync does. The rest — what to write, the ledger, conflicts, dry runs, the
page's section and the worker's job — is crm/writeback/, for any CRM."""

from __future__ import annotations

import re
from typing import Any

from simple_salesforce.exceptions import SalesforceError

from ecoops.accounts.service import InvalidInput
from ecoops.config import Settings
from ecoops.crm.connections.models import CrmConnection
from ecoops.crm.salesforce.client import SalesforceApi, SalesforceAuthError, SalesforceUnavailable
from ecoops.crm.salesforce.sync import credentials_of
from ecoops.crm.writeback import provider
from ecoops.crm.writeback.targets import ACCOUNT, OPPORTUNITY, Target

BATCH = 200  # the sObject Collections API's most records per call
OBJECTS = {ACCOUNT: "Account", OPPORTUNITY: "Opportunity"}
KEY_PREFIX = {"Account": "001", "Opportunity": "006"}  # every Salesforce id starts with its object's
_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")
TEXT_TYPES = ("string", "textarea")
WORD_TYPES = (*TEXT_TYPES, "picklist")  # a class or a status (its values must then be the picklist's)
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


def suggest(target: Target) -> str:
    """A custom field's API name for the target: "partner_class" → Ecoops_Partner_Class__c."""
    return "Ecoops_" + "_".join(w.capitalize() for w in target.stem.split("_")) + "__c"


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
            f"Manager → {object_name} → Fields & Relationships, e.g. a Text field {suggest(target)}), "
            "or check the integration user can see it"
        )
    if not found.get("updateable"):
        raise InvalidInput(
            f"crm_field: {where} cannot be written by the integration user (a formula or read-only "
            "field, or no edit access in its field-level security)"
        )
    kind = str(found.get("type", ""))
    types = WORD_TYPES if target.choice else TEXT_TYPES
    if kind not in types:
        wanted = ", ".join(TYPE_NAMES[t] for t in types)
        raise InvalidInput(
            f"crm_field: {where} is a {TYPE_NAMES.get(kind, kind)} field; {target.label} needs {wanted}"
        )
    return int(found.get("length") or 255)


SALESFORCE = provider.Provider(
    key="salesforce",
    label="Salesforce",
    objects=OBJECTS,
    field_word="field",
    fields_word="fields",
    create_hint="a custom Text or Text Area field",
    batch=BATCH,
    writer=lambda _sessions, settings, connection: SalesforceWriter(_api(settings, connection)),
    check=lambda settings, connection, target, name: check_field(_api(settings, connection), target, name),
    suggest=suggest,
    unavailable=(SalesforceUnavailable, SalesforceAuthError),
)
