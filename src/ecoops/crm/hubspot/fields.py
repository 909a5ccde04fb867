"""HubSpot's side of the field-mapping page: each object's properties with their types, the sync's
built-in choices, and a preview of the latest records read with a mapping (crm/connections/fields.py)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ecoops.config import Settings
from ecoops.crm.connections import fields
from ecoops.crm.connections.fields import MAPPABLE, CrmField, CrmUnreadable, PreviewRecord
from ecoops.crm.connections.models import CrmConnection
from ecoops.crm.connections.secrets import seal
from ecoops.crm.hubspot.client import HubSpotApi, Tokens
from ecoops.crm.hubspot.sync import (
    COMPANIES,
    CONTACTS,
    DEALS,
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
        self.api = HubSpotApi(settings, credentials_of(settings, connection), on_tokens=self._tokens)

    def _tokens(self, tokens: Tokens) -> None:
        if tokens.refresh_token:  # HubSpot may rotate the refresh token
            self.connection.refresh_token = seal(self.settings, tokens.refresh_token)

    def described(self, object_name: str) -> dict[str, CrmField]:
        if not (self.api.credentials.access_token or self.api.credentials.refresh_token):
            raise CrmUnreadable("HubSpot's credentials are missing (not kept here): connect again")
        try:
            return describe(self.api, object_name)
        except Exception as exc:  # any refusal or failure of the API: said on the page
            raise CrmUnreadable(f"HubSpot could not list the properties of {object_name}: {exc}") from exc

    def defaults(self, object_name: str, described: dict[str, CrmField]) -> dict[str, str]:
        spec = SPECS[object_name]
        settled = fields.settle(default_fields(spec), {}, set(described))
        return {t.field: settled.columns[t.field] for t in MAPPABLE[spec.kind] if t.field in settled.columns}

    def preview(
        self, object_name: str, described: dict[str, CrmField], choices: dict[str, str], limit: int
    ) -> list[PreviewRecord]:
        spec = SPECS[object_name]
        try:
            plan, _missing = settled_plan(
                self.api, spec, described, choices, owners_of(self.api), self.settings.currency
            )
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
            records = page.results or []
            ids = [str(r.id) for r in records]
            companies = companies_of(self.api, spec, ids) if spec.primary_company else {}
        except Exception as exc:  # any refusal or failure of the API: said on the page
            raise CrmUnreadable(f"HubSpot could not read {object_name}: {exc}") from exc
        rows = [(str(r.id), plan.cells(r, companies.get(str(r.id), []))) for r in records]
        workspace = Workspace(currency=self.settings.currency, tz=self.settings.tz)
        return fields.preview_records(plan.mapping, plan.header, rows, workspace)
