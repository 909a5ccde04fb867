"""The HubSpot sync: companies and deals read through the CRM search API in `hs_lastmodifieddate` order
from their checkpoint (less an overlap window), their pages turned into rows under HubSpot's export
header and fed to the CSV import's pipeline in batches (crm/connections/sync.py), archived records
removed.

Per run: the owners (their names go on each record), the deal pipelines and their stages (the stage
map: closed from `isClosed`, won from probability 1.0), each object's properties (a property the
portal lacks is left out, as a column a file lacks is), then companies, deals (with their `dealstage`
history by batch read and their companies by the associations API, written with them in one
transaction), and the archived companies and deals. Each has its own checkpoint.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from ecoops.actors import Actor
from ecoops.config import Settings
from ecoops.crm.connections import fields
from ecoops.crm.connections.fields import CrmField
from ecoops.crm.connections.models import CrmConnection
from ecoops.crm.connections.secrets import seal, unseal
from ecoops.crm.connections.service import store_stages
from ecoops.crm.connections.sync import (
    Batch,
    Counts,
    CrmSync,
    Progress,
    Removes,
    Rows,
    as_utc,
    remove_accounts,
    remove_contacts,
    remove_opportunities,
    text,
)
from ecoops.crm.hubspot.client import OPTIONAL_SCOPES as CONTACTS_SCOPE
from ecoops.crm.hubspot.client import Credentials, HubSpotApi, Tokens
from ecoops.crm.imports.fields import Kind
from ecoops.crm.imports.formats import HUBSPOT, PROFILES, Mapping, recognise
from ecoops.crm.imports.service import REJECTED
from ecoops.db import transaction

PROVIDER = "hubspot"
MODIFIED = "hs_lastmodifieddate"
PARTNER_PROPERTIES = ("partner", "partner_name", "partner_source")  # the first the portal has
SEARCH_PAGE, HISTORY_BATCH, ASSOCIATION_BATCH = 200, 50, 1000  # HubSpot's most per request
COMPANY_IDS = "Associated Company IDs (Primary)"


@dataclass(frozen=True)
class SyncedObject:
    """One HubSpot object: its properties (property → HubSpot's export column), what a deletion
    removes, the property holding its last modification, and the association type HubSpot marks
    "Primary" from it to a company (0: not read)."""

    name: str  # the API's object type: companies, deals, contacts
    kind: Kind
    properties: dict[str, str]
    removes: Removes
    modified: str = MODIFIED
    primary_company: int = 0


COMPANIES = SyncedObject(
    "companies",
    Kind.ACCOUNTS,
    {
        "name": "Company name",
        "domain": "Company Domain Name",
        "website": "Website URL",
        "country": "Country/Region",
        "industry": "Industry",
        "type": "Type",
        "hubspot_owner_id": "Company owner",
        "hs_parent_company_id": "Parent Company ID",
        "numberofemployees": "Number of Employees",
        "createdate": "Create Date",
    },
    remove_accounts,
)
DEALS = SyncedObject(
    "deals",
    Kind.OPPORTUNITIES,
    {
        "dealname": "Deal Name",
        "dealstage": "Deal Stage",
        "amount": "Amount",
        "deal_currency_code": "Currency",
        "amount_in_home_currency": "Amount in company currency",
        "createdate": "Create Date",
        "closedate": "Close Date",
        "hubspot_owner_id": "Deal owner",
        "dealtype": "Deal Type",
        "hs_analytics_source": "Original Source Type",
    }
    | dict.fromkeys(PARTNER_PROPERTIES, "Partner"),
    remove_opportunities,
    primary_company=5,
)
CONTACTS = SyncedObject(
    "contacts",
    Kind.CONTACTS,
    {
        "firstname": "First Name",
        "lastname": "Last Name",
        "email": "Email",
        "jobtitle": "Job Title",
        "phone": "Phone Number",
    },
    remove_contacts,
    modified="lastmodifieddate",  # HubSpot's contacts keep it without the hs_ prefix
    primary_company=1,
)
# Each kind's fields under HubSpot's export columns (the first name the CSV import knows each by).
EXPORT_COLUMNS: dict[Kind, dict[str, str]] = {
    p.kind: {name: names[0] for name, names in p.columns.items()}
    for p in PROFILES
    if p.source_format == HUBSPOT and not p.wide_stage_history
}
OWNER_PROPERTY = "hubspot_owner_id"
HISTORY = "deal stage history"
HISTORY_HEADER = ["Record ID", "Deal Stage", "Date entered"]
HISTORY_MAPPING = Mapping(
    Kind.STAGE_HISTORY,
    HUBSPOT,
    {"opportunity_crm_id": "Record ID", "stage": "Deal Stage", "changed_on": "Date entered"},
)


@dataclass(frozen=True)
class Stage:
    label: str  # as stored: the stage's label, with its pipeline's where two pipelines share it
    closed: bool
    won: bool


@dataclass
class Plan:
    """An object's properties and header, settled from the portal's own properties."""

    spec: SyncedObject
    properties: list[str]  # asked for
    header: list[str]
    mapping: Mapping
    owners: dict[str, str]
    columns: dict[str, str]  # property → the export column it fills
    stages: dict[str, Stage] = field(default_factory=dict)  # stage id → stage
    outcomes: dict[str, tuple[bool, bool]] = field(default_factory=dict)  # label → (closed, won), edited

    def cells(self, record: Any, companies: list[str]) -> list[str]:
        """The record as a row under `header`, as HubSpot's export would have it."""
        values: dict[str, str] = {"Record ID": str(record.id)}
        props = record.properties or {}
        for name, column in self.columns.items():
            value = props.get(name)
            if name == OWNER_PROPERTY:
                value = self.owners.get(str(value or ""), value)
            values[column] = text(value)
        if self.spec.primary_company:
            values[COMPANY_IDS] = ";".join(companies)
        if self.spec.kind == Kind.OPPORTUNITIES:
            stage = self.stages.get(values.get("Deal Stage", ""))
            if stage is not None:
                values["Deal Stage"] = stage.label
            closed, won = self.outcomes.get(values.get("Deal Stage", ""), (None, None))
            values["Is Closed"] = text(closed if closed is not None else props.get("hs_is_closed") == "true")
            values["Is Closed Won"] = text(
                won if won is not None else props.get("hs_is_closed_won") == "true"
            )
        return [values.get(column, "") for column in self.header]


class HubSpotSync(CrmSync):
    """One run over every object, in order (owners, pipelines, companies, deals, archived ones)."""

    provider, label = PROVIDER, "HubSpot"
    search_cap = 10_000  # the search API gives at most this many results per query

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        actor: Actor,
        *,
        trigger: str,
        api: HubSpotApi | None = None,
        progress: Progress | None = None,
    ) -> None:
        super().__init__(sessions, settings, actor, trigger=trigger, progress=progress)
        self.api = api or connection_api(sessions, settings, self.connection_id, self.credentials)

    def prepare(self, connection: CrmConnection) -> None:
        self.credentials = credentials_of(self.settings, connection)
        self.scopes = connection.scopes.split()

    def api_usage(self) -> tuple[int, int] | None:
        return self.api.daily

    def sync_all(self) -> str:
        owners = owners_of(self.api)
        stages = stages_of(self.api)
        status = "done"
        synced = [COMPANIES, DEALS]
        if CONTACTS_SCOPE in self.scopes:
            synced.insert(1, CONTACTS)
        else:
            self.warnings.append(
                f"contacts: not read, the connection lacks the scope {CONTACTS_SCOPE}: add it to the app "
                "and connect again"
            )
        for spec in synced:
            plan = self.plan(spec, owners, stages)
            if not self.sync_object(plan):
                status = REJECTED
        for spec in synced:
            self.sync_archived(spec)
        return status

    # -- metadata ---------------------------------------------------------------------------------

    def plan(self, spec: SyncedObject, owners: dict[str, str], stages: dict[str, Stage]) -> Plan:
        plan, missing = settled_plan(
            self.api,
            spec,
            describe(self.api, spec.name),
            self.chosen.get(spec.name, {}),
            owners,
            self.settings.currency,
        )
        self.warnings += fields.warnings(spec.name, self.label, missing)
        if spec.kind == Kind.OPPORTUNITIES:
            plan.stages = stages
            told = {s.label: (s.closed, s.won) for s in stages.values()}
            with transaction(self.sessions) as session:
                plan.outcomes = store_stages(session, self.connection_id, told)
        return plan

    # -- reading ----------------------------------------------------------------------------------

    def _search(self, plan: Plan, since: datetime | None) -> Iterator[Any]:
        """Every record modified at or after `since`, oldest first, paged to the end with `after`; past
        the search API's cap, searched again from the last record's time."""
        floor, after, modified = since, 0, plan.spec.modified
        while True:
            filters = (
                [{"filters": [{"propertyName": modified, "operator": "GTE", "value": _millis(floor)}]}]
                if floor
                else []
            )
            request = {  # the REST body as HubSpot documents it (the client sends a dict as it is)
                "filterGroups": filters,
                "sorts": [{"propertyName": modified, "direction": "ASCENDING"}],
                "properties": plan.properties,
                "limit": SEARCH_PAGE,
            }
            if after:
                request["after"] = str(after)
            page = self.api.call(
                f"crm.{plan.spec.name}.search_api", "do_search", public_object_search_request=request
            )
            if not after:
                self.expected = max(self.expected, int(page.total or 0))
            yield from page.results or []
            following = _next(page)
            if following is None:
                return
            after = int(following)
            if after + SEARCH_PAGE > self.search_cap and page.results:
                floor, after = (
                    _modified(page.results[-1], modified),
                    0,
                )  # a new search from the last time read

    def _batches(self, plan: Plan, since: datetime | None) -> Iterator[list[Any]]:
        """The search's records in batches, each record once (a search started again past the cap reads
        the records at its starting time a second time)."""
        pending: dict[str, Any] = {}
        for record in self._search(plan, since):
            pending[str(record.id)] = record
            if len(pending) >= self.settings.crm_sync_batch_records:
                yield list(pending.values())
                pending = {}
        if pending:
            yield list(pending.values())

    def sync_object(self, plan: Plan) -> bool:
        """Every batch of one object; False when a batch was refused (the object stops there)."""
        name = plan.spec.name
        since = self.since(name)
        self.expected = 0
        self.progress(f"{name}: reading from {since.isoformat() if since else 'the start'}", 0, 0)
        for records in self._batches(plan, since):
            read_before = self.per_object.get(name, Counts()).records
            ids = [str(r.id) for r in records]
            companies = companies_of(self.api, plan.spec, ids) if plan.spec.primary_company else {}
            history: dict[str, list[Any]] = {}
            if plan.spec.kind == Kind.OPPORTUNITIES:
                history = self._history(ids)
            lines = {str(r.id): read_before + n for n, r in enumerate(records, 1)}
            parts = [
                Rows(
                    name,
                    plan.header,
                    plan.mapping,
                    [
                        (lines[str(r.id)], str(r.id), plan.cells(r, companies.get(str(r.id), [])))
                        for r in records
                    ],
                    len(records),
                )
            ]
            if plan.spec.kind == Kind.OPPORTUNITIES:
                rows = [
                    (lines[deal], deal, [deal, _stage_label(plan, entry.value), entry.timestamp.isoformat()])
                    for deal, entries in history.items()
                    for entry in entries
                    if entry.value and entry.timestamp is not None
                ]
                parts.append(Rows(HISTORY, HISTORY_HEADER, HISTORY_MAPPING, rows, len(rows)))
            batch = Batch(name, parts, [], _modified(records[-1], plan.spec.modified), plan.spec.removes)
            if not self.write_batch(batch):
                return False
        return True

    def _history(self, ids: list[str]) -> dict[str, list[Any]]:
        """Each deal's `dealstage` history (batch read; at most 50 records a request with history)."""
        found: dict[str, list[Any]] = {}
        for start in range(0, len(ids), HISTORY_BATCH):
            request = {
                "inputs": [{"id": i} for i in ids[start : start + HISTORY_BATCH]],
                "properties": ["dealstage"],
                "propertiesWithHistory": ["dealstage"],
            }
            answer = self.api.call(
                "crm.deals.batch_api", "read", batch_read_input_simple_public_object_id=request
            )
            for record in answer.results or []:  # a deal archived since the search is not given
                found[str(record.id)] = list((record.properties_with_history or {}).get("dealstage") or [])
        return found

    def sync_archived(self, spec: SyncedObject) -> None:
        """Records archived (deleted) since the checkpoint, through `archived=true` listing: removed."""
        name = f"{spec.name} archived"
        since = self.since(name)
        after: str | None = None
        gone: list[str] = []
        latest = since
        while True:
            page = self.api.call(
                f"crm.{spec.name}.basic_api", "get_page", limit=100, archived=True, **_after(after)
            )
            for record in page.results or []:
                moment = record.archived_at or record.updated_at
                if since is None or moment is None or as_utc(moment) >= since:
                    gone.append(str(record.id))
                    if moment is not None and (latest is None or as_utc(moment) > latest):
                        latest = as_utc(moment)
            after = _next(page)
            if after is None:
                break
        batch = Counts(records=len(gone))
        with transaction(self.sessions) as session:
            if gone:
                batch.deleted = spec.removes(session, gone)
            if latest is not None:
                self.move_checkpoint(session, name, latest)
            self.count(session, name, batch)
        self.counted(name, batch)


def owners_of(api: HubSpotApi) -> dict[str, str]:
    """Owner id → name (archived owners too: a deactivated user still owns records)."""
    names: dict[str, str] = {}
    for archived in (False, True):
        after: str | None = None
        while True:
            page = api.call(
                "crm.owners.owners_api", "get_page", limit=500, archived=archived, **_after(after)
            )
            for owner in page.results or []:
                name = " ".join(p for p in (owner.first_name, owner.last_name) if p) or owner.email or ""
                names[str(owner.id)] = name
            after = _next(page)
            if after is None:
                break
    return names


def stages_of(api: HubSpotApi) -> dict[str, Stage]:
    """The deal pipelines' stages, stage id → stage."""
    pipelines = api.call("crm.pipelines.pipelines_api", "get_all", object_type="deals").results or []
    labels: dict[str, int] = {}
    for pipeline in pipelines:
        for stage in pipeline.stages or []:
            labels[stage.label] = labels.get(stage.label, 0) + 1
    stages: dict[str, Stage] = {}
    for pipeline in pipelines:
        for stage in pipeline.stages or []:
            meta = stage.metadata or {}
            closed = str(meta.get("isClosed", "false")).lower() == "true"
            try:
                won = closed and float(meta.get("probability", "0")) == 1.0
            except ValueError:
                won = False
            label = stage.label if labels[stage.label] == 1 else f"{stage.label} ({pipeline.label})"
            stages[str(stage.id)] = Stage(label, closed, won)
    return stages


def describe(api: HubSpotApi, object_name: str) -> dict[str, CrmField]:
    """The object's properties (`GET /crm/v3/properties/{object}`) with their labels and types."""
    described = api.call("crm.properties.core_api", "get_all", object_type=object_name)
    return {
        str(p.name): CrmField(str(p.name), str(p.label or p.name), str(p.type or ""))
        for p in described.results or []
    }


def default_fields(spec: SyncedObject) -> list[tuple[str, str]]:
    """The object's built-in (property, import field) pairs, in order of preference."""
    field_of = {column: name for name, column in EXPORT_COLUMNS[spec.kind].items()}
    return [(prop, field_of[column]) for prop, column in spec.properties.items()]


def settled_plan(
    api: HubSpotApi,
    spec: SyncedObject,
    described: dict[str, CrmField],
    chosen: dict[str, str],
    owners: dict[str, str],
    currency: str,
) -> tuple[Plan, dict[str, str]]:
    """The object's plan: its default properties the portal has, an admin's choices over them (each
    filling the column its field has in HubSpot's export); and the chosen properties the portal no
    longer has (import field → property)."""
    export = EXPORT_COLUMNS[spec.kind]
    settled = fields.settle(default_fields(spec), chosen, set(described))
    columns = {prop: export[name] for name, prop in settled.columns.items()}
    asked = list(columns)
    header = ["Record ID", *columns.values()]
    if spec.primary_company:
        header.append(COMPANY_IDS)
    if spec.kind == Kind.OPPORTUNITIES:
        asked += [p for p in ("hs_is_closed", "hs_is_closed_won") if p in described]
        header += ["Is Closed", "Is Closed Won"]
        converted = export["amount_converted"]
        if converted in header and not _home_currency_is(api, currency):
            header.remove(converted)  # HubSpot's home currency is not ours
    mapping = recognise(header, f"HubSpot {spec.name}", spec.kind)
    return Plan(spec, [*asked, spec.modified], header, mapping, owners, columns), settled.missing


def _home_currency_is(api: HubSpotApi, currency: str) -> bool:
    details = api.get("/account-info/v3/details")
    return str(details.get("companyCurrency", "")) == currency


def companies_of(api: HubSpotApi, spec: SyncedObject, ids: list[str]) -> dict[str, list[str]]:
    """Each record's companies, the primary first (associations v4, batch read)."""
    found: dict[str, list[str]] = {}
    for start in range(0, len(ids), ASSOCIATION_BATCH):
        request = {"inputs": [{"id": i} for i in ids[start : start + ASSOCIATION_BATCH]]}
        answer = api.call(
            "crm.associations.v4.batch_api",
            "get_page",
            from_object_type=spec.name,
            to_object_type="companies",
            batch_input_public_fetch_associations_batch_request=request,
        )
        for result in answer.results or []:
            targets = sorted(
                result.to or [],
                key=lambda t: not any(a.type_id == spec.primary_company for a in t.association_types or []),
            )
            found[str(result._from.id)] = [str(t.to_object_id) for t in targets]
    return found


def _stage_label(plan: Plan, stage_id: str) -> str:
    stage = plan.stages.get(stage_id)
    return stage.label if stage is not None else stage_id


def _after(after: str | None) -> dict[str, str]:
    return {"after": after} if after else {}


def _next(page: Any) -> str | None:
    paging = getattr(page, "paging", None)
    following = getattr(paging, "next", None) if paging is not None else None
    return str(following.after) if following is not None and following.after else None


def _modified(record: Any, modified: str) -> datetime:
    stamp = (record.properties or {}).get(modified)
    if stamp:
        return as_utc(datetime.fromisoformat(str(stamp).replace("Z", "+00:00")))
    return as_utc(record.updated_at)


def _millis(moment: datetime | None) -> str:
    return str(int(as_utc(moment).timestamp() * 1000)) if moment else ""


def credentials_of(settings: Settings, connection: CrmConnection) -> Credentials:
    return Credentials(
        flow=connection.flow,
        access_token=unseal(settings, connection.access_token),
        client_id=connection.client_id,
        client_secret=unseal(settings, connection.client_secret),
        refresh_token=unseal(settings, connection.refresh_token),
    )


def connection_api(
    sessions: sessionmaker[Session], settings: Settings, connection_id: int, credentials: Credentials
) -> HubSpotApi:
    """The API for a connection; a refresh token HubSpot rotates while it runs is stored at once."""

    def keep(tokens: Tokens) -> None:
        if tokens.refresh_token and tokens.refresh_token != credentials.refresh_token:
            with transaction(sessions) as session:
                connection = session.get_one(CrmConnection, connection_id)
                connection.refresh_token = seal(settings, tokens.refresh_token)

    return HubSpotApi(settings, credentials, on_tokens=keep)
