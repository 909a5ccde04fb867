"""HubSpot's side of the field-mapping page: each object's properties with their types, the sync's
built-in choices, and a preview of the latest records read with a mapping (crm/connections/fields.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ecoops.config import Settings
from ecoops.crm.connections import fields
from ecoops.crm.connections.fields import CrmField, PreviewRecord
from ecoops.crm.connections.models import CrmConnection
from ecoops.crm.connections.secrets import seal
from ecoops.crm.hubspot.client import HubSpotApi, Tokens
from ecoops.crm.hubspot.sync import (
    COMPANIES,
    CONTACTS,
    DEALS,
    Plan,
    companies_of,
    credentials_of,
    default_fields,
    describe,
    owners_of,
    settled_plan,
    stages_of,
)
from ecoops.crm.imports.fields import Kind
from ecoops.crm.imports.records import Workspace

SPECS = {spec.name: spec for spec in (COMPANIES, DEALS, CONTACTS)}


class HubSpotFields:
    objects: dict[str, Kind] = {name: spec.kind for name, spec in SPECS.items()}

    def __init__(self, session: Session, settings: Settings, connection: CrmConnection) -> None:
        self.session, self.settings, self.connection = session, settings, connection
        credentials = credentials_of(settings, connection)
        self.api = HubSpotApi(settings, credentials, on_tokens=self._tokens)
        self.usable = bool(credentials.access_token or credentials.refresh_token)

    def _tokens(self, tokens: Tokens) -> None:
        if tokens.refresh_token:  # HubSpot may rotate the refresh token
            self.connection.refresh_token = seal(self.settings, tokens.refresh_token)

    def described(self, object_name: str) -> dict[str, CrmField]:
        what = f"list the properties of {object_name}"
        return fields.asked("HubSpot", what, self.usable, lambda: describe(self.api, object_name))

    def defaults(self, object_name: str, described: dict[str, CrmField]) -> dict[str, str]:
        spec = SPECS[object_name]
        return fields.built_in(spec.kind, default_fields(spec), described)

    def preview(
        self, object_name: str, described: dict[str, CrmField], choices: dict[str, str], limit: int
    ) -> list[PreviewRecord]:
        spec = SPECS[object_name]

        def read() -> tuple[Plan, list[Any], dict[str, list[str]]]:
            owners = owners_of(self.api)
            plan, _missing = settled_plan(self.api, spec, described, choices, owners, self.settings.currency)
            if spec.kind == Kind.OPPORTUNITIES:
                plan.stages = stages_of(self.api)
                plan.outcomes = fields.stored_stages(self.session, self.connection.id)
            request = {
                "filterGroups": [],
                "sorts": [{"propertyName": spec.modified, "direction": "DESCENDING"}],
                "properties": plan.properties,
                "limit": limit,
            }
            page = self.api.call(
                f"crm.{spec.name}.search_api", "do_search", public_object_search_request=request
            )
            records = list(page.results or [])
            ids = [str(r.id) for r in records]
            return plan, records, companies_of(self.api, spec, ids) if spec.primary_company else {}

        plan, records, companies = fields.asked("HubSpot", f"read {object_name}", self.usable, read)
        rows = [(str(r.id), plan.cells(r, companies.get(str(r.id), []))) for r in records]
        workspace = Workspace(currency=self.settings.currency, tz=self.settings.tz)
        return fields.preview_records(plan.mapping, plan.header, rows, workspace)
