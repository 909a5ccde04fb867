"""The Salesforce sync: each object read by `queryAll` in `SystemModstamp` order from its checkpoint (less
an overlap window), its pages fed to the CSV import's pipeline (`import_rows`) in batches. A read of at
least `crm_bulk_threshold_records` records (a first load, mostly; `SELECT COUNT()` tells) is a Bulk API
2.0 query job instead: its CSV chunks are rows already, one chunk a batch; its records come in no
order, so the object's checkpoint moves once, with the last chunk, to the newest `SystemModstamp` read.

Each batch is one transaction: its records checked, compared and upserted (all or nothing, as a
file is), the deleted ones (`IsDeleted`, which `queryAll` returns) removed, its problems kept for the
run's error report, the run's counts and the object's checkpoint moved — so a sync killed at any
point resumes at the last batch it committed, and re-reading the overlap changes nothing (an
unchanged record is not written). A batch with a refused record writes nothing but its problems and
stops that object's sync (its checkpoint stays) until the record or the stage map is fixed.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cached_property, partial
from typing import Any

from simple_salesforce.api import Salesforce
from sqlalchemy import update
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
    Rows,
    as_utc,
    remove_accounts,
    remove_contacts,
    remove_opportunities,
    text,
)
from ecoops.crm.connections.sync import (
    connected as connected_crm,
)
from ecoops.crm.imports.fields import Kind
from ecoops.crm.imports.formats import SALESFORCE_API, Mapping
from ecoops.crm.imports.service import REJECTED
from ecoops.crm.models import Opportunity
from ecoops.crm.salesforce.client import Credentials, SalesforceApi, SalesforceJobFailed, Tokens
from ecoops.db import transaction

PROVIDER = "salesforce"
_CENT = Decimal("0.01")
PARTNER_FIELDS = ("Partner__c", "Partner_Account__c", "PartnerAccountId")  # the first the org has
JOB_WAIT_SECONDS = 6 * 3600  # a Bulk API query job still running after this fails the run


@dataclass(frozen=True)
class SyncedObject:
    """One Salesforce object: its fields (field → our import field), and what a deletion removes."""

    name: str
    kind: Kind
    fields: dict[
        str, str
    ]  # Salesforce field (or Owner.Name) → import field; those the org lacks are left out
    removes: Callable[[Session, list[str]], int] | None = None


OBJECTS: tuple[SyncedObject, ...] = (
    SyncedObject(
        "Account",
        Kind.ACCOUNTS,
        {
            "Id": "crm_id",
            "Name": "name",
            "Website": "website",
            "BillingCountry": "country",
            "Industry": "industry",
            "Type": "account_type",
            "Owner.Name": "owner",
            "ParentId": "parent_crm_id",
            "NumberOfEmployees": "employees",
            "CreatedDate": "created_on",
        },
        remove_accounts,
    ),
    SyncedObject(
        "Opportunity",
        Kind.OPPORTUNITIES,
        {
            "Id": "crm_id",
            "AccountId": "account_crm_id",
            "Name": "name",
            "StageName": "stage",
            "Amount": "amount",
            "CurrencyIsoCode": "currency",
            "CreatedDate": "created_on",
            "CloseDate": "close_date",
            "IsClosed": "is_closed",
            "IsWon": "is_won",
            "Owner.Name": "owner",
            "Type": "opportunity_type",
            "LeadSource": "lead_source",
        }
        | dict.fromkeys(PARTNER_FIELDS, "partner_source"),
        remove_opportunities,
    ),
    # A deleted history row goes with its opportunity (removed above), so it removes nothing itself.
    SyncedObject(
        "OpportunityHistory",
        Kind.STAGE_HISTORY,
        {
            "Id": "",
            "OpportunityId": "opportunity_crm_id",
            "StageName": "stage",
            "CreatedDate": "changed_on",
            "Amount": "amount",
        },
    ),
    SyncedObject(
        "Contact",
        Kind.CONTACTS,
        {
            "Id": "crm_id",
            "AccountId": "account_crm_id",
            "FirstName": "first_name",
            "LastName": "last_name",
            "Email": "email",
            "Title": "title",
            "Phone": "phone",
        },
        remove_contacts,
    ),
)
PARTNERS = "OpportunityPartner"
CONVERTED = "ConvertedAmount"  # our own column: the amount in the workspace currency, from CurrencyType


@dataclass
class Plan:
    """An object's query and how its records become rows: settled from the org's describe."""

    spec: SyncedObject
    header: list[str]
    mapping: Mapping
    stages: dict[str, tuple[bool, bool]] = field(default_factory=dict)  # stage → (closed, won), edited
    rates: dict[str, Decimal] = field(default_factory=dict)  # currency → workspace units per unit
    home: str = ""  # the workspace currency: its amounts need no converted amount

    @property
    def fields(self) -> list[str]:
        """The fields read, each once: the header's (less our converted amount), then IsDeleted and
        SystemModstamp."""
        return list(
            dict.fromkeys([h for h in self.header if h != CONVERTED] + ["IsDeleted", "SystemModstamp"])
        )

    def soql(
        self, since: datetime | None, *, ordered: bool = True, counting: bool = False, newest: int = 0
    ) -> str:
        """The object's query from `since`, oldest first (in no order for a Bulk API job, which takes no
        ORDER BY; `COUNT()` when counting); or its `newest` records (a preview's)."""
        selected = "COUNT()" if counting else ", ".join(self.fields)
        where = f" WHERE SystemModstamp >= {as_utc(since):%Y-%m-%dT%H:%M:%SZ}" if since else ""
        order = " ORDER BY SystemModstamp, Id" if ordered else ""
        if newest:
            order = f" ORDER BY SystemModstamp DESC, Id DESC LIMIT {newest}"
        return f"SELECT {selected} FROM {self.spec.name}{where}{order}"  # noqa: S608 - our names

    def cells(self, record: dict[str, Any]) -> list[str]:
        """The record as a row of cells under `header`, as a Data Loader export would have it."""
        return self.finish(
            [text(_path(record, h) if "." in h else record.get(h)) for h in self.header if h != CONVERTED]
        )

    @cached_property
    def picks(self) -> list[int] | None:
        """Where each header column (less the converted amount) is among `fields`, the columns of a Bulk
        API job's CSV; None when they are its first ones, in order (a slice then does)."""
        read = [h for h in self.header if h != CONVERTED]
        at = [self.fields.index(h) for h in read]
        return None if at == list(range(len(read))) else at

    @property
    def finishes(self) -> bool:
        """Whether `finish` changes anything (opportunities' flags and converted amounts)."""
        return self.spec.kind == Kind.OPPORTUNITIES

    @cached_property
    def _places(self) -> tuple[int, ...]:
        """Where the stage, closed and won flags, amount and currency are in `header` (-1: not read)."""
        names = [
            self.mapping.columns.get(f, "") for f in ("stage", "is_closed", "is_won", "amount", "currency")
        ]
        return tuple(self.header.index(h) if h in self.header else -1 for h in names)

    def finish(self, values: list[str]) -> list[str]:
        """Cells read (under `header` less the converted amount) with the stage map's flags over the
        record's, and the converted amount."""
        if self.finishes:
            stage, closed, won, amount, currency = self._places
            told = self.stages.get(values[stage]) if min(stage, closed, won) >= 0 else None
            if told is not None:  # the stage map, edited or as Salesforce says, over the record's flags
                values[closed], values[won] = text(told[0]), text(told[1])
            if CONVERTED in self.header:
                values.append(self._converted(values[amount] if amount >= 0 else "", values[currency]))
        return values

    def _converted(self, amount_cell: str, currency: str) -> str:
        """The amount in the workspace currency; empty when it is in it already (or cannot be)."""
        rate = self.rates.get(currency)
        if rate is None or currency == self.home:
            return ""
        try:
            amount = Decimal(amount_cell)
        except InvalidOperation:
            return ""
        if not amount.is_finite():
            return ""
        return str((amount * rate).quantize(_CENT, ROUND_HALF_UP))


@dataclass
class Chunk:
    """Records read as rows under the plan's header (with their ids), the ids deleted, and the stamp
    the object's checkpoint moves to once they are stored (None: not yet)."""

    ids: list[str]
    rows: list[list[str]]
    gone: list[str]
    stamp: datetime | None
    read: int


def _bulk(sf: Salesforce, name: str) -> Any:
    """simple-salesforce's Bulk API 2.0 client for one object (`sf.bulk2.<name>`): each step called on
    its own, so each is tried again as the API's rules say (its own `query` retries nothing)."""
    return getattr(sf.bulk2, name)._client


def _csv_rows(text: str, width: int) -> list[list[str]]:
    """Bulk API CSV (every value quoted) as rows: split at `","` and `"<LF>"` in one pass when no value
    holds a quote or a line break (the quotes then number two per value), else by the csv module."""
    lines = text.count("\n")
    if text.endswith('"\n') and text.count('"') == 2 * width * lines:
        cells = text[1:-2].replace('"\n"', '","').split('","')
        if len(cells) == width * lines:
            return [cells[at : at + width] for at in range(0, len(cells), width)]
    return list(csv.reader(io.StringIO(text)))


def _results(sf: Salesforce, *, name: str, job: str, locator: str, most: int) -> Any:
    return _bulk(sf, name).get_query_results(job, locator, max_records=most)


def describe(api: SalesforceApi, object_name: str) -> dict[str, CrmField]:
    """The object's fields as its `describe` gives them, and `Owner.Name` where it has an owner."""
    described = api.call(lambda sf: sf.restful(f"sobjects/{object_name}/describe"))
    found = {
        str(f["name"]): CrmField(str(f["name"]), str(f.get("label") or f["name"]), str(f.get("type") or ""))
        for f in (described or {}).get("fields", [])
    }
    if "OwnerId" in found:  # the owner's name, by the relationship (no separate User sync)
        found["Owner.Name"] = CrmField("Owner.Name", "Owner's name", "string")
    return found


def settled_plan(
    spec: SyncedObject, described: dict[str, CrmField], chosen: dict[str, str]
) -> tuple[Plan, dict[str, str]]:
    """The object's plan: its default fields the org has, an admin's choices over them; and the chosen
    fields the org no longer has (import field → CRM field)."""
    settled = fields.settle(spec.fields.items(), chosen, set(described))
    mapping = Mapping(kind=spec.kind, source_format=SALESFORCE_API, columns=settled.columns)
    plan = Plan(spec, settled.header, mapping)
    if "currency" in settled.columns:
        plan.header.append(CONVERTED)
        mapping.columns["amount_converted"] = CONVERTED
    return plan, settled.missing


def rates(api: SalesforceApi, currency: str) -> dict[str, Decimal]:
    """Workspace-currency units per unit of each active currency (CurrencyType: per corporate unit)."""
    answer = api.call(
        lambda sf: sf.query_all("SELECT IsoCode, ConversionRate FROM CurrencyType WHERE IsActive = true")
    )
    per_corporate = {str(r["IsoCode"]): Decimal(str(r["ConversionRate"])) for r in answer["records"]}
    ours = per_corporate.get(currency)
    if ours is None:
        return {}  # records not in the workspace currency are then refused, as in a file without rates
    return {code: ours / rate for code, rate in per_corporate.items() if rate > 0}


def _more(sf: Salesforce, *, url: str, timeout: float) -> Any:
    return sf.query_more(url, identifier_is_url=True, timeout=timeout)


def _path(record: dict[str, Any], name: str) -> Any:
    value: Any = record
    for part in name.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _modstamp(text: str) -> datetime:
    return datetime.strptime(text.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z")


class SalesforceSync(CrmSync):
    """One run over every object, in order (accounts, opportunities, their history)."""

    provider, label = PROVIDER, "Salesforce"

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        actor: Actor,
        *,
        trigger: str,
        api: SalesforceApi | None = None,
        progress: Progress | None = None,
    ) -> None:
        super().__init__(sessions, settings, actor, trigger=trigger, progress=progress)
        self.api = api or SalesforceApi(settings, self.credentials, on_tokens=self._tokens)

    def prepare(self, connection: CrmConnection) -> None:
        self.credentials = credentials_of(self.settings, connection)

    def _tokens(self, tokens: Tokens) -> None:
        with transaction(self.sessions) as session:
            connection = session.get_one(CrmConnection, self.connection_id)
            connection.instance_url = tokens.instance_url
            if tokens.refresh_token:  # the org rotates refresh tokens
                connection.refresh_token = seal(self.settings, tokens.refresh_token)

    def sync_all(self) -> str:
        status = "done"
        for spec in OBJECTS:
            plan = self.plan(spec)
            if not self.sync_object(plan):
                status = REJECTED
            if spec.kind == Kind.OPPORTUNITIES and "partner_source" not in plan.mapping.columns:
                self.sync_partners()
        return status

    def api_usage(self) -> tuple[int, int] | None:
        return self.api.api_usage

    # -- planning ---------------------------------------------------------------------------------

    def plan(self, spec: SyncedObject) -> Plan:
        chosen = self.chosen.get(spec.name, {})
        plan, missing = settled_plan(spec, describe(self.api, spec.name), chosen)
        self.warnings += fields.warnings(spec.name, self.label, missing)
        if spec.kind == Kind.OPPORTUNITIES:
            plan.stages = self._stage_map()
            if "currency" in plan.mapping.columns:
                plan.rates, plan.home = rates(self.api, self.settings.currency), self.settings.currency
        return plan

    def _stage_map(self) -> dict[str, tuple[bool, bool]]:
        """OpportunityStage's IsClosed/IsWon stored as the stage map; an admin's edit stands."""
        answer = self.api.call(
            lambda sf: sf.query_all("SELECT MasterLabel, IsClosed, IsWon FROM OpportunityStage")
        )
        told = {str(r["MasterLabel"]): (bool(r["IsClosed"]), bool(r["IsWon"])) for r in answer["records"]}
        with transaction(self.sessions) as session:
            return store_stages(session, self.connection_id, told)

    # -- reading and writing ----------------------------------------------------------------------

    def _batches(self, plan: Plan, since: datetime | None) -> Iterator[list[dict[str, Any]]]:
        """The REST query's records, `queryAll` in SystemModstamp order, a batch at a time."""
        soql = plan.soql(since)
        timeout = self.settings.crm_timeout_seconds
        page = self.api.call(lambda sf: sf.query(soql, include_deleted=True, timeout=timeout))
        pending: list[dict[str, Any]] = []
        while True:
            pending.extend(page["records"])
            if len(pending) >= self.settings.crm_sync_batch_records or page.get("done", True):
                yield pending
                pending = []
            if page.get("done", True) or not page.get("nextRecordsUrl"):
                return
            url = page["nextRecordsUrl"]
            page = self.api.call(partial(_more, url=url, timeout=timeout))

    def _count(self, plan: Plan, since: datetime | None) -> int:
        soql = plan.soql(since, ordered=False, counting=True)
        timeout = self.settings.crm_timeout_seconds
        answer = self.api.call(lambda sf: sf.query(soql, include_deleted=True, timeout=timeout))
        return int(answer.get("totalSize", 0))

    def _rest_chunks(self, plan: Plan, since: datetime | None) -> Iterator[Chunk]:
        for records in self._batches(plan, since):
            live = [r for r in records if not r.get("IsDeleted")]
            yield Chunk(
                [str(r["Id"]) for r in live],
                [plan.cells(r) for r in live],
                [str(r["Id"]) for r in records if r.get("IsDeleted")],
                _modstamp(str(records[-1]["SystemModstamp"])) if records else None,
                len(records),
            )

    def _bulk_chunks(self, plan: Plan, since: datetime | None) -> Iterator[Chunk]:
        """A Bulk API 2.0 query job, waited for, then its CSV results a chunk of `crm_sync_batch_records`
        at a time (`Sforce-Locator`). `query` for a first load; `queryAll` (deleted records too) once a
        batch of the object was stored: incremental, or a first load begun by a run that was stopped."""
        operation = "queryAll" if since or self.begun(plan.spec.name) else "query"
        soql = plan.soql(since, ordered=False)
        name = plan.spec.name
        job = self.api.call(lambda sf: _bulk(sf, name).create_job(operation, soql))
        job_id = str(job["id"])
        self._wait_for_job(name, job_id)
        fields, picks, width = plan.fields, plan.picks, len(plan.header) - (CONVERTED in plan.header)
        key, deleted, modstamp = (fields.index(f) for f in ("Id", "IsDeleted", "SystemModstamp"))
        locator, newest = "", ""
        most = self.settings.crm_sync_batch_records
        while True:
            result = self.api.call(partial(_results, name=name, job=job_id, locator=locator, most=most))
            header, *rows = _csv_rows(result["records"], len(fields))
            if header != fields:
                raise SalesforceJobFailed(
                    f"Salesforce's Bulk API job {job_id} ({name}) answered the columns {', '.join(header)}; "
                    f"expected {', '.join(fields)}"
                )
            locator = result["locator"]
            live = [row for row in rows if row[deleted] != "true"]
            if rows:
                newest = max(newest, max(row[modstamp] for row in rows))
            cells = (
                [row[:width] for row in live] if picks is None else [[row[i] for i in picks] for row in live]
            )
            yield Chunk(
                [row[key] for row in live],
                [plan.finish(row) for row in cells] if plan.finishes else cells,
                [row[key] for row in rows if row[deleted] == "true"],
                _modstamp(newest) if newest and not locator else None,
                len(rows),
            )
            if not locator:
                return

    def _wait_for_job(self, name: str, job_id: str) -> None:
        """Poll the job (every 0.05 s, doubling to 10 s) until it is complete; a failed or aborted job,
        or one still running after JOB_WAIT_SECONDS, fails the run (the checkpoint stays)."""
        delay, deadline = 0.05, time.monotonic() + JOB_WAIT_SECONDS
        while True:
            info = self.api.call(lambda sf: _bulk(sf, name).get_job(job_id, True))
            state = str(info.get("state"))
            if state == "JobComplete":
                return
            if state in ("Failed", "Aborted") or time.monotonic() > deadline:
                raise SalesforceJobFailed(
                    f"Salesforce's Bulk API query job {job_id} ({name}) ended {state}: "
                    f"{info.get('errorMessage') or 'no message'}"
                )
            self.api.sleep(delay)
            delay = min(delay * 2, 10.0)

    def sync_object(self, plan: Plan) -> bool:
        """Every batch of one object; False when a batch was refused (the object stops there)."""
        name = plan.spec.name
        since = self.since(name)
        self.progress(f"{name}: reading from {since.isoformat() if since else 'the start'}", 0, 0)
        self.expected = self._count(plan, since)
        bulk = self.expected >= self.settings.crm_bulk_threshold_records
        chunks = self._bulk_chunks(plan, since) if bulk else self._rest_chunks(plan, since)
        for chunk in chunks:
            read_before = self.per_object.get(name, Counts()).records
            lines = range(read_before + 1, read_before + len(chunk.rows) + 1)
            numbered = list(zip(lines, chunk.ids, chunk.rows, strict=True))
            rows = Rows(name, plan.header, plan.mapping, numbered, chunk.read)
            if not self.write_batch(Batch(name, [rows], chunk.gone, chunk.stamp, plan.spec.removes)):
                return False
        return True

    def sync_partners(self) -> None:
        """OpportunityPartner, for an org without a partner field on Opportunity: the primary partner's
        account id becomes the opportunity's partner source; a primary row deleted or no longer primary
        clears it (only where it still names that account)."""
        name = PARTNERS
        header = ["Id", "OpportunityId", "AccountToId", "IsPrimary"]
        plan = Plan(
            SyncedObject(name, Kind.OPPORTUNITIES, {}),
            header,
            Mapping(Kind.OPPORTUNITIES, SALESFORCE_API, {}),
        )
        since = self.since(name)
        self.expected = self._count(plan, since)
        o = Opportunity
        for records in self._batches(plan, since):
            batch = Counts(records=len(records))
            with transaction(self.sessions) as session:
                for r in records:
                    opportunity, account = str(r["OpportunityId"] or ""), str(r["AccountToId"] or "")
                    if r.get("IsPrimary") and not r.get("IsDeleted"):
                        changed = update(o).where(o.crm_id == opportunity, o.partner_source != account)
                        changed = changed.values(partner_source=account[:255])
                    else:
                        changed = update(o).where(o.crm_id == opportunity, o.partner_source == account)
                        changed = changed.values(partner_source="")
                    batch.updated += session.execute(changed).rowcount or 0  # type: ignore[attr-defined]
                batch.unchanged = batch.records - batch.updated
                self.move_checkpoint(session, name, _modstamp(str(records[-1]["SystemModstamp"])))
                self.count(session, name, batch)
            self.counted(name, batch)


def connected(session: Session) -> CrmConnection:
    """The connected Salesforce (NotFound when there is none)."""
    return connected_crm(session, PROVIDER, "Salesforce")


def credentials_of(settings: Settings, connection: CrmConnection) -> Credentials:
    return Credentials(
        login_url=connection.login_url,
        client_id=connection.client_id,
        client_secret=unseal(settings, connection.client_secret),
        refresh_token=unseal(settings, connection.refresh_token),
        username=connection.username,
        private_key=unseal(settings, connection.private_key),
    )
