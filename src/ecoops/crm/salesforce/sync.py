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
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import partial
from typing import Any

from simple_salesforce.api import Salesforce
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from ecoops import audit
from ecoops.actors import Actor
from ecoops.audit import utcnow
from ecoops.config import Settings
from ecoops.crm.imports.fields import Kind
from ecoops.crm.imports.formats import SALESFORCE_API, Mapping
from ecoops.crm.imports.records import Problem, Workspace
from ecoops.crm.imports.service import COMMITTED, REJECTED, ImportRequest, import_rows
from ecoops.crm.imports.staging import ProblemLog
from ecoops.crm.imports.values import DateOrder
from ecoops.crm.models import Account, ImportRun, Opportunity, OpportunityStageChange
from ecoops.crm.salesforce.client import Credentials, SalesforceApi, Tokens
from ecoops.crm.salesforce.models import CrmConnection, StageMapping, SyncCheckpoint, SyncRun
from ecoops.crm.salesforce.secrets import seal, unseal
from ecoops.db import transaction

SOURCE_FORMAT = "salesforce_sync"
_CENT = Decimal("0.01")
Progress = Callable[[str, int, int], None]  # told (message, records read, records the query holds)
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


def _remove_accounts(session: Session, ids: list[str]) -> int:
    return session.execute(delete(Account).where(Account.crm_id.in_(ids))).rowcount or 0  # type: ignore[attr-defined]


def _remove_opportunities(session: Session, ids: list[str]) -> int:
    session.execute(delete(OpportunityStageChange).where(OpportunityStageChange.opportunity_crm_id.in_(ids)))
    return session.execute(delete(Opportunity).where(Opportunity.crm_id.in_(ids))).rowcount or 0  # type: ignore[attr-defined]


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
        _remove_accounts,
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
        _remove_opportunities,
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
)
PARTNERS = "OpportunityPartner"
CONVERTED = "ConvertedAmount"  # our own column: the amount in the workspace currency, from CurrencyType


@dataclass
class Counts:
    records: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    rejected: int = 0

    def add(self, other: Counts) -> None:
        for name in vars(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Plan:
    """An object's query and how its records become rows: settled from the org's describe."""

    spec: SyncedObject
    header: list[str]
    mapping: Mapping
    stages: dict[str, tuple[bool, bool]] = field(default_factory=dict)  # stage → (closed, won), edited
    rates: dict[str, Decimal] = field(default_factory=dict)  # currency → workspace units per unit

    def soql(self, since: datetime | None) -> str:
        fields = [h for h in self.header if h != CONVERTED] + ["IsDeleted", "SystemModstamp"]
        where = f" WHERE SystemModstamp >= {_utc(since):%Y-%m-%dT%H:%M:%SZ}" if since else ""
        return f"SELECT {', '.join(fields)} FROM {self.spec.name}{where} ORDER BY SystemModstamp, Id"  # noqa: S608 - our names

    def cells(self, record: dict[str, Any]) -> list[str]:
        """The record as a row of cells under `header`, as a Data Loader export would have it."""
        values = [
            _text(_path(record, h) if "." in h else record.get(h)) for h in self.header if h != CONVERTED
        ]
        if self.spec.kind == Kind.OPPORTUNITIES:
            stage, closed, won = (self.header.index(h) for h in ("StageName", "IsClosed", "IsWon"))
            told = self.stages.get(values[stage])
            if told is not None:  # the stage map, edited or as Salesforce says, over the record's flags
                values[closed], values[won] = _text(told[0]), _text(told[1])
            if CONVERTED in self.header:
                values.append(self._converted(record))
        return values

    def _converted(self, record: dict[str, Any]) -> str:
        rate = self.rates.get(str(record.get("CurrencyIsoCode") or ""))
        try:
            amount = Decimal(str(record.get("Amount")))
        except InvalidOperation:
            return ""
        if rate is None or not amount.is_finite():
            return ""
        return str((amount * rate).quantize(_CENT, ROUND_HALF_UP))


def _more(sf: Salesforce, *, url: str, timeout: float) -> Any:
    return sf.query_more(url, identifier_is_url=True, timeout=timeout)


def _path(record: dict[str, Any], name: str) -> Any:
    value: Any = record
    for part in name.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def _utc(moment: datetime) -> datetime:
    """A stored time in UTC (SQLite gives it back without its zone; PostgreSQL in the session's zone)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _modstamp(text: str) -> datetime:
    return datetime.strptime(text.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z")


class SalesforceSync:
    """One run over every object, in order (accounts, opportunities, their history)."""

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
        self.sessions, self.settings, self.actor, self.trigger = sessions, settings, actor, trigger
        self.progress: Progress = progress or (lambda _message, _done, _total: None)
        self.expected = 0  # records the current object's query holds (its first page's totalSize)
        with transaction(sessions) as session:
            connection = connected(session)
            self.connection_id = connection.id
            credentials = credentials_of(settings, connection)
            for stopped in session.scalars(
                select(SyncRun).where(SyncRun.connection_id == connection.id, SyncRun.status == "running")
            ):  # a sync killed outright (its batches committed stay; this run resumes after them)
                stopped.status, stopped.error = "stopped", "stopped before it finished; the next run resumed"
            run = SyncRun(connection_id=connection.id, trigger=trigger, actor_label=actor.label[:200])
            session.add(run)
            session.flush()
            self.run_id = run.id
        self.api = api or SalesforceApi(settings, credentials, on_tokens=self._tokens)
        self.workspace = Workspace(currency=settings.currency, tz=settings.tz)
        self.totals = Counts()
        self.per_object: dict[str, Counts] = {}

    def _tokens(self, tokens: Tokens) -> None:
        with transaction(self.sessions) as session:
            connection = session.get_one(CrmConnection, self.connection_id)
            connection.instance_url = tokens.instance_url
            if tokens.refresh_token:  # the org rotates refresh tokens
                connection.refresh_token = seal(self.settings, tokens.refresh_token)

    def run(self) -> SyncRun:
        """Sync every object; the run's row records how it went, whatever happens."""
        status, error = "done", ""
        try:
            for spec in OBJECTS:
                plan = self.plan(spec)
                if not self.sync_object(plan):
                    status = REJECTED
                if spec.kind == Kind.OPPORTUNITIES and "partner_source" not in plan.mapping.columns:
                    self.sync_partners()
        except Exception as exc:
            status, error = "failed", f"{type(exc).__name__}: {exc}"[:2000]
            self._finish(status, error)
            raise
        return self._finish(status, error)

    def _finish(self, status: str, error: str) -> SyncRun:
        with transaction(self.sessions) as session:
            run = session.get_one(SyncRun, self.run_id)
            run.status, run.error, run.finished_at = status, error, utcnow()
            connection = session.get_one(CrmConnection, self.connection_id)
            if self.api.api_usage is not None:
                connection.api_used, connection.api_max = self.api.api_usage
            if status == "done":
                connection.last_success_at = run.finished_at
            audit.record(
                session,
                self.actor,
                f"salesforce.sync_{status}",
                "crm_sync_run",
                run.id,
                new=run.new,
                updated=run.updated,
                deleted=run.deleted,
                rejected=run.rejected,
                error=error,
            )
            session.flush()
            session.expunge(run)
        return run

    # -- planning ---------------------------------------------------------------------------------

    def plan(self, spec: SyncedObject) -> Plan:
        described = self.api.call(lambda sf: sf.restful(f"sobjects/{spec.name}/describe"))
        names = {f["name"] for f in (described or {}).get("fields", [])}
        header: list[str] = []
        columns: dict[str, str] = {}
        for name, target in spec.fields.items():
            present = name in names or (name.endswith(".Name") and name.split(".")[0] + "Id" in names)
            if present and (not target or target not in columns):
                header.append(name)
                if target:
                    columns[target] = name
        plan = Plan(spec, header, Mapping(kind=spec.kind, source_format=SALESFORCE_API, columns=columns))
        if spec.kind == Kind.OPPORTUNITIES:
            plan.stages = self._stage_map()
            if "CurrencyIsoCode" in header:
                plan.rates = self._rates()
                header.append(CONVERTED)
                columns["amount_converted"] = CONVERTED
        return plan

    def _stage_map(self) -> dict[str, tuple[bool, bool]]:
        """OpportunityStage's IsClosed/IsWon stored as the stage map; an admin's edit stands."""
        answer = self.api.call(
            lambda sf: sf.query_all("SELECT MasterLabel, IsClosed, IsWon FROM OpportunityStage")
        )
        with transaction(self.sessions) as session:
            stored = {
                m.stage: m
                for m in session.scalars(
                    select(StageMapping).where(StageMapping.connection_id == self.connection_id)
                )
            }
            for record in answer["records"]:
                stage, closed, won = (
                    str(record["MasterLabel"]),
                    bool(record["IsClosed"]),
                    bool(record["IsWon"]),
                )
                mapping = stored.get(stage)
                if mapping is None:
                    mapping = StageMapping(connection_id=self.connection_id, stage=stage[:255], edited_by="")
                    session.add(mapping)
                    stored[stage] = mapping
                mapping.crm_is_closed, mapping.crm_is_won = closed, won
                if not mapping.edited_by:
                    mapping.is_closed, mapping.is_won = closed, won
            return {m.stage: (m.is_closed, m.is_won) for m in stored.values()}

    def _rates(self) -> dict[str, Decimal]:
        """Workspace-currency units per unit of each active currency (CurrencyType: per corporate unit)."""
        answer = self.api.call(
            lambda sf: sf.query_all("SELECT IsoCode, ConversionRate FROM CurrencyType WHERE IsActive = true")
        )
        per_corporate = {str(r["IsoCode"]): Decimal(str(r["ConversionRate"])) for r in answer["records"]}
        ours = per_corporate.get(self.settings.currency)
        if ours is None:
            return {}  # records not in the workspace currency are then refused, as in a file without rates
        return {code: ours / rate for code, rate in per_corporate.items() if rate > 0}

    # -- reading and writing ----------------------------------------------------------------------

    def _since(self, session: Session, name: str) -> datetime | None:
        checkpoint = session.scalar(
            select(SyncCheckpoint.modstamp).where(
                SyncCheckpoint.connection_id == self.connection_id, SyncCheckpoint.object_name == name
            )
        )
        if checkpoint is None:
            return None
        return checkpoint - timedelta(seconds=self.settings.crm_sync_overlap_seconds)

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
        counts = self.per_object.setdefault(name, Counts())
        with transaction(self.sessions) as session:
            since = self._since(session, name)
        self.progress(f"{name}: reading from {since.isoformat() if since else 'the start'}", 0, 0)
        for records in self._batches(plan, since):
            batch = self._write_batch(plan, records, counts.records)
            counts.add(batch)
            self.totals.add(batch)
            self.progress(
                f"{name}: {counts.records:,} of {self.expected:,} records", counts.records, self.expected
            )
            if batch.rejected:
                return False
        return True

    def _write_batch(self, plan: Plan, records: list[dict[str, Any]], read_before: int) -> Counts:
        counts = Counts(records=len(records))
        if not records:
            return counts
        name = plan.spec.name
        live = [r for r in records if not r.get("IsDeleted")]
        gone = [str(r["Id"]) for r in records if r.get("IsDeleted")]
        ids = {read_before + n: str(r["Id"]) for n, r in enumerate(live, 1)}
        with transaction(self.sessions) as session:
            problems = ProblemLog(session.connection())
            outcome = import_rows(
                session,
                self.actor,
                plan.header,
                ((line, plan.cells(r)) for line, r in zip(ids, live, strict=True)),
                mapping=plan.mapping,
                date_order=DateOrder.MDY,  # the API writes ISO dates; the order is never consulted
                request=ImportRequest(),
                workspace=self.workspace,
                today=self.settings.today(),
                problems=problems,
            )
            counts.new, counts.updated, counts.unchanged = outcome.new, outcome.updated, outcome.unchanged
            counts.rejected = outcome.rejected
            if outcome.status == COMMITTED:
                if gone and plan.spec.removes is not None:
                    counts.deleted = plan.spec.removes(session, gone)
                self._move_checkpoint(session, name, records)
            else:  # name each refused record by its Salesforce id beside its problems
                refused = {p.line for p in problems.ordered()}
                problems.add(
                    [Problem(line, "Id", ids[line], "this record was refused") for line in sorted(refused)]
                )
            import_run = self._import_run(session, plan, counts, outcome.status)
            problems.keep_for_run(import_run.id)
            problems.drop()
            self._count(session, name, counts, import_run.id)
        return counts

    def sync_partners(self) -> None:
        """OpportunityPartner, for an org without a partner field on Opportunity: the primary partner's
        account id becomes the opportunity's partner source; a primary row deleted or no longer primary
        clears it (only where it still names that account)."""
        name, counts = PARTNERS, self.per_object.setdefault(PARTNERS, Counts())
        header = ["Id", "OpportunityId", "AccountToId", "IsPrimary"]
        plan = Plan(
            SyncedObject(name, Kind.OPPORTUNITIES, {}),
            header,
            Mapping(Kind.OPPORTUNITIES, SALESFORCE_API, {}),
        )
        with transaction(self.sessions) as session:
            since = self._since(session, name)
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
                self._move_checkpoint(session, name, records)
                self._count(session, name, batch, 0)
            counts.add(batch)
            self.totals.add(batch)

    def _move_checkpoint(self, session: Session, name: str, records: list[dict[str, Any]]) -> None:
        stamp = _modstamp(str(records[-1]["SystemModstamp"]))
        checkpoint = session.scalar(
            select(SyncCheckpoint).where(
                SyncCheckpoint.connection_id == self.connection_id, SyncCheckpoint.object_name == name
            )
        )
        if checkpoint is None:
            checkpoint = SyncCheckpoint(connection_id=self.connection_id, object_name=name)
            session.add(checkpoint)
        checkpoint.modstamp, checkpoint.updated_at = stamp, utcnow()

    def _import_run(self, session: Session, plan: Plan, counts: Counts, status: str) -> ImportRun:
        """The object's import run within this sync (its error report), made at its first batch."""
        run = session.get_one(SyncRun, self.run_id)
        known = run.import_runs.get(plan.spec.name)
        import_run = session.get(ImportRun, known) if known else None
        if import_run is None:
            import_run = ImportRun(
                kind=plan.spec.kind.value,
                source_format=SOURCE_FORMAT,
                filename=f"Salesforce {plan.spec.name}, sync {self.run_id}",
                sha256="",
                status=COMMITTED,
                mapping=plan.mapping.describe(),
                actor_label=self.actor.label[:200],
            )
            session.add(import_run)
            session.flush()
            run.import_runs = {**run.import_runs, plan.spec.name: import_run.id}
        import_run.rows += counts.records - counts.deleted
        import_run.new += counts.new
        import_run.updated += counts.updated
        import_run.unchanged += counts.unchanged
        import_run.rejected += counts.rejected
        if status == REJECTED:
            import_run.status = REJECTED
        import_run.finished_at = utcnow()
        return import_run

    def _count(self, session: Session, name: str, counts: Counts, _import_run_id: int) -> None:
        run = session.get_one(SyncRun, self.run_id)
        for attribute in vars(counts):
            setattr(run, attribute, getattr(run, attribute) + getattr(counts, attribute))
        so_far = dict(run.objects.get(name, {}))
        for attribute, value in vars(counts).items():
            so_far[attribute] = so_far.get(attribute, 0) + value
        run.objects = {**run.objects, name: so_far}


def connected(session: Session) -> CrmConnection:
    from ecoops.permissions import NotFound

    connection = session.scalar(
        select(CrmConnection).where(
            CrmConnection.provider == "salesforce", CrmConnection.status == "connected"
        )
    )
    if connection is None:
        raise NotFound("Salesforce is not connected: connect it on the Salesforce page first")
    return connection


def credentials_of(settings: Settings, connection: CrmConnection) -> Credentials:
    return Credentials(
        login_url=connection.login_url,
        client_id=connection.client_id,
        client_secret=unseal(settings, connection.client_secret),
        refresh_token=unseal(settings, connection.refresh_token),
        username=connection.username,
        private_key=unseal(settings, connection.private_key),
    )
