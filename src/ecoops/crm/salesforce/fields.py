"""Salesforce's side of the field-mapping page: each object's fields from its `describe`, the sync's
built-in choices, and a preview of the newest records read with a mapping (crm/connections/fields.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ecoops.config import Settings
from ecoops.crm.connections import fields
from ecoops.crm.connections.fields import MAPPABLE, CrmField, PreviewRecord
from ecoops.crm.connections.models import CrmConnection
from ecoops.crm.connections.secrets import seal
from ecoops.crm.imports.fields import Kind
from ecoops.crm.imports.records import Workspace
from ecoops.crm.salesforce.client import SalesforceApi, Tokens
from ecoops.crm.salesforce.sync import OBJECTS, credentials_of, describe, rates, settled_plan

SPECS = {spec.name: spec for spec in OBJECTS if spec.kind in MAPPABLE}


class SalesforceFields:
    objects: dict[str, Kind] = {name: spec.kind for name, spec in SPECS.items()}

    def __init__(self, session: Session, settings: Settings, connection: CrmConnection) -> None:
        self.session, self.settings, self.connection = session, settings, connection
        credentials = credentials_of(settings, connection)
        self.api = SalesforceApi(settings, credentials, on_tokens=self._tokens)
        self.usable = bool(credentials.refresh_token or credentials.private_key)

    def _tokens(self, tokens: Tokens) -> None:
        self.connection.instance_url = tokens.instance_url
        if tokens.refresh_token:  # the org rotates refresh tokens
            self.connection.refresh_token = seal(self.settings, tokens.refresh_token)

    def described(self, object_name: str) -> dict[str, CrmField]:
        what = f"describe {object_name}"
        return fields.asked("Salesforce", what, self.usable, lambda: describe(self.api, object_name))

    def defaults(self, object_name: str, described: dict[str, CrmField]) -> dict[str, str]:
        spec = SPECS[object_name]
        return fields.built_in(spec.kind, spec.fields.items(), described)

    def preview(
        self, object_name: str, described: dict[str, CrmField], choices: dict[str, str], limit: int
    ) -> list[PreviewRecord]:
        spec = SPECS[object_name]
        plan, _missing = settled_plan(spec, described, choices)
        soql = plan.soql(None, newest=limit)

        def read() -> Any:
            if spec.kind == Kind.OPPORTUNITIES:
                plan.stages = fields.stored_stages(self.session, self.connection.id)
                if "currency" in plan.mapping.columns:
                    plan.rates = rates(self.api, self.settings.currency)
            return self.api.call(lambda sf: sf.query(soql, timeout=self.settings.crm_timeout_seconds))

        answer = fields.asked("Salesforce", f"read {object_name}", self.usable, read)
        rows = [(str(r["Id"]), plan.cells(r)) for r in answer["records"]]
        workspace = Workspace(currency=self.settings.currency, tz=self.settings.tz)
        return fields.preview_records(plan.mapping, plan.header, rows, workspace)
