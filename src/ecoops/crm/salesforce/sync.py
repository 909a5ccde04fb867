"""The Salesforce sync: each object read by `queryAll` in `SystemModstamp` order from its checkpoint (less
an overlap window), its pages fed to the CSV import's pipeline (`import_rows`) in batches.

Each batch is one transaction: its records checked, compared and upserted (all or nothing, as a
file is), the deleted ones (`IsDeleted`, which `queryAll` returns) removed, its problems kept for the
run's error report, the run's counts and the object's checkpoint moved — so a sync killed at any
point resumes at the last batch it committed, and re-reading the overlap changes nothing (an
unchanged record is not written). A batch with a refused record writes nothing but its problems and
stops that object's sync (its checkpoint stays) until the record or the stage map is fixed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import partial
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
from ecoops.crm.salesforce.client import Credentials, SalesforceApi, Tokens
from ecoops.db import transaction

PROVIDER = "salesforce"
_CENT = Decimal("0.01")
PARTNER_FIELDS = ("Partner__c", "Partner_Account__c", "PartnerAccountId")  # the first the org has


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

    def soql(self, since: datetime | None, *, newest: int = 0) -> str:
        """The object's query from `since`, oldest first; or its `newest` records (a preview's)."""
        asked = [h for h in self.header if h != CONVERTED] + ["IsDeleted", "SystemModstamp"]
        fields = ", ".join(dict.fromkeys(asked))
        where = f" WHERE SystemModstamp >= {as_utc(since):%Y-%m-%dT%H:%M:%SZ}" if since else ""
        order = f"SystemModstamp DESC, Id DESC LIMIT {newest}" if newest else "SystemModstamp, Id"
        return f"SELECT {fields} FROM {self.spec.name}{where} ORDER BY {order}"  # noqa: S608 - our names

    def cells(self, record: dict[str, Any]) -> list[str]:
        """The record as a row of cells under `header`, as a Data Loader export would have it."""
        values = [
            text(_path(record, h) if "." in h else record.get(h)) for h in self.header if h != CONVERTED
        ]
        if self.spec.kind == Kind.OPPORTUNITIES:
            stage, closed, won = (
                self.header.index(self.mapping.columns[f]) for f in ("stage", "is_closed", "is_won")
            )
            told = self.stages.get(values[stage])
            if told is not None:  # the stage map, edited or as Salesforce says, over the record's flags
                values[closed], values[won] = text(told[0]), text(told[1])
            if CONVERTED in self.header:
                values.append(self._converted(record))
        return values

    def _converted(self, record: dict[str, Any]) -> str:
        rate = self.rates.get(str(record.get(self.mapping.columns["currency"]) or ""))
        try:
            amount = Decimal(str(record.get(self.mapping.columns.get("amount", ""))))
        except InvalidOperation:
            return ""
        if rate is None or not amount.is_finite():
            return ""
        return str((amount * rate).quantize(_CENT, ROUND_HALF_UP))


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
                plan.rates = rates(self.api, self.settings.currency)
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
        soql = plan.soql(since)
        timeout = self.settings.crm_timeout_seconds
        page = self.api.call(lambda sf: sf.query(soql, include_deleted=True, timeout=timeout))
        self.expected = int(page.get("totalSize", 0))
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

    def sync_object(self, plan: Plan) -> bool:
        """Every batch of one object; False when a batch was refused (the object stops there)."""
        name = plan.spec.name
        since = self.since(name)
        self.progress(f"{name}: reading from {since.isoformat() if since else 'the start'}", 0, 0)
        for records in self._batches(plan, since):
            read_before = self.per_object.get(name, Counts()).records
            live = [r for r in records if not r.get("IsDeleted")]
            batch = Batch(
                name,
                [
                    Rows(
                        name,
                        plan.header,
                        plan.mapping,
                        [(read_before + n, str(r["Id"]), plan.cells(r)) for n, r in enumerate(live, 1)],
                        len(records),
                    )
                ],
                [str(r["Id"]) for r in records if r.get("IsDeleted")],
                _modstamp(str(records[-1]["SystemModstamp"])) if records else None,
                plan.spec.removes,
            )
            if not self.write_batch(batch):
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
