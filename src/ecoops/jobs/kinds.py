"""The kinds of job and their handlers: a partner's mapping run, a private exchange, a large import."""

from __future__ import annotations

from datetime import date
from typing import Any

from ecoops.audit import utcnow
from ecoops.crm.connections.sync import CrmSync
from ecoops.crm.hubspot.client import HubSpotUnavailable
from ecoops.crm.hubspot.sync import HubSpotSync
from ecoops.crm.hubspot.writeback import HUBSPOT
from ecoops.crm.imports import service as imports
from ecoops.crm.imports import uploads as import_uploads
from ecoops.crm.imports.fields import Kind as ImportKind
from ecoops.crm.imports.formats import ImportFileError
from ecoops.crm.imports.records import Workspace
from ecoops.crm.imports.values import DateOrder
from ecoops.crm.salesforce.client import SalesforceUnavailable
from ecoops.crm.salesforce.sync import SalesforceSync
from ecoops.crm.salesforce.writeback import SALESFORCE
from ecoops.crm.writeback import provider as writeback
from ecoops.db import READ_ONLY
from ecoops.jobs.names import (
    EXCHANGE,
    HUBSPOT_SYNC,
    IMPORT,
    MAPPING,
    MATURITY,
    SALESFORCE_SYNC,
)
from ecoops.jobs.queue import JobFailed, JobRun, Kind, Result
from ecoops.mapping import runs
from ecoops.maturity import criteria as maturity
from ecoops.permissions import NotFound, Permission
from ecoops.psi import exchange
from ecoops.psi.models import ExchangeStatus


def map_partner(run: JobRun) -> Result:
    """Read and match in a read-only transaction (no write lock held while matching), then store the
    matches in a short write transaction; matched again there in the rare case the list or the last
    run changed meanwhile."""
    partner_id = int(run.arguments["partner_id"])
    run.progress(0, 2, "matching the partner's list against our accounts", force=True)
    with run.sessions() as session:
        session.connection(execution_options=READ_ONLY)
        planned = runs.plan_mapping(session, run.actor, partner_id)
    if isinstance(planned, runs.Plan):
        run.progress(1, 2, f"storing {planned.pairs.num_rows:,} matches", force=True)
        with run.transaction() as session:
            if not runs.plan_is_current(session, planned):
                planned = runs.plan_mapping(session, run.actor, partner_id)
            if isinstance(planned, runs.Plan):
                planned = runs.store_mapping(session, run.actor, planned, utcnow().date())
    mapped = planned.run
    if mapped is None:
        raise JobFailed("the partner has no list to map: upload one first")
    if planned.skipped:
        return Result("nothing changed since the last run, so the matches stand as they were")
    return Result(
        f"{mapped.matches:,} matches between {mapped.our_accounts:,} of our accounts "
        f"and {mapped.their_accounts:,} of theirs"
    )


def run_exchange(run: JobRun) -> Result:
    """Counts, then reveal; a failed exchange fails the attempt (the peer may be back at the next)."""

    def step(done: int, mode: str) -> None:
        run.progress(done, len(exchange.MODES), f"{mode} exchange with the partner's server", force=True)

    outcomes = exchange.run_exchanges(run.sessions, run.settings, int(run.arguments["connection_id"]), step)
    for outcome in outcomes:
        if outcome.status != ExchangeStatus.DONE:
            raise RuntimeError(f"the {outcome.mode} exchange failed: {outcome.error}")
    return Result("; ".join(f"{o.mode}: {o.matches:,} matched" for o in outcomes))


def import_arguments(token: str, request: imports.ImportRequest) -> dict[str, Any]:
    return {
        "token": token,
        "kind": request.kind.value if request.kind else None,
        "mapping": request.mapping,
        "date_order": request.date_order.value if request.date_order else None,
        "accept_valid": request.accept_valid,
    }


def commit_import(run: JobRun) -> Result:
    """A large import, committed as one unit like any other (all or nothing), off the web request."""
    args, settings = run.arguments, run.settings
    request = imports.ImportRequest(
        kind=ImportKind(args["kind"]) if args["kind"] else None,
        mapping=args["mapping"],
        date_order=DateOrder(args["date_order"]) if args["date_order"] else None,
        accept_valid=bool(args["accept_valid"]),
    )
    token = str(args["token"])
    try:
        path = import_uploads.upload_path(settings.uploads_dir, token)
    except NotFound as exc:
        raise JobFailed(f"{exc}: upload the file again") from exc
    run.progress(0, 1, "importing the file (all rows or none)", force=True)
    try:
        with run.transaction() as session:
            outcome = imports.run_import(
                session,
                run.actor,
                path,
                filename=import_uploads.upload_filename(settings.uploads_dir, token),
                request=request,
                workspace=Workspace(currency=settings.currency, tz=settings.tz),
                today=settings.today(),
            )
    except ImportFileError as exc:
        raise JobFailed(str(exc)) from exc
    import_uploads.remove_upload(settings.uploads_dir, token)
    url = f"/imports/{outcome.run_id}"
    if outcome.status == imports.COMMITTED:
        return Result(outcome.summary(), url)
    return Result(f"Nothing was imported: {outcome.rejected:,} rows were refused.", url)


def _sync(run: JobRun, kind: type[CrmSync], unavailable: type[Exception]) -> Result:
    """A CRM sync; it commits batch by batch, so a stopped one resumes at its checkpoints."""
    run.progress(0, 0, f"connecting to {kind.label}", force=True)
    sync = kind(
        run.sessions,
        run.settings,
        run.actor,
        trigger=str(run.arguments.get("trigger", "manual")),
        progress=lambda message, done, total: run.progress(done, total, message),
    )
    try:
        done = sync.run()
    except unavailable as exc:
        raise JobFailed(str(exc)) from exc
    counts = (
        f"{done.new:,} new, {done.updated:,} updated, {done.deleted:,} deleted, {done.rejected:,} refused"
    )
    return Result(f"{kind.label} sync {done.status}: {counts}", f"/crm/{kind.provider}")


def _then_write_back(run: JobRun, synced: Result, crm: writeback.Provider) -> Result:
    """Write-back follows every sync once a field is turned on."""
    if writeback.has_fields(run.sessions, crm):
        said = _write_back(run, crm, trigger="after_sync", dry_run=False)
        return Result(f"{synced.message}; {said}", synced.url)
    return synced


def sync_salesforce(run: JobRun) -> Result:
    return _then_write_back(run, _sync(run, SalesforceSync, SalesforceUnavailable), SALESFORCE)


def sync_hubspot(run: JobRun) -> Result:
    return _then_write_back(run, _sync(run, HubSpotSync, HubSpotUnavailable), HUBSPOT)


def assess_maturity(run: JobRun) -> Result:
    """The day's maturity assessment: figures read in a read-only transaction (no write lock held while
    they are computed), kept in a short write transaction."""
    day = date.fromisoformat(str(run.arguments["day"]))
    run.progress(0, 1, "computing the criteria's figures", force=True)
    with run.sessions() as session:
        session.connection(execution_options=READ_ONLY)
        found = maturity.assess(session, run.actor, run.settings, day)
    with run.transaction() as session:
        kept = maturity.keep(session, run.actor, found, day)
    return Result(f"Maturity on {day.isoformat()}: {kept.stage}", "/maturity")


def _write_back(run: JobRun, crm: writeback.Provider, *, trigger: str, dry_run: bool) -> str:
    try:
        done = writeback.run_writeback(
            run.sessions,
            run.settings,
            run.actor,
            crm,
            trigger=trigger,
            dry_run=dry_run,
            progress=lambda d, total, message: run.progress(d, total, message),
        )
    except crm.unavailable as exc:
        raise JobFailed(str(exc)) from exc
    verb = "would write" if dry_run else "written"
    return (
        f"write-back: {done.written:,} values {verb}, {done.unchanged:,} unchanged, "
        f"{done.conflicts:,} conflicts, {done.failed:,} failed"
    )


def write_back_kind(crm: writeback.Provider) -> Kind:
    def handler(run: JobRun) -> Result:
        """A write-back run (or a dry run) on demand; each batch commits, so a retry writes nothing twice."""
        run.progress(0, 0, "computing the values to write", force=True)
        dry_run = bool(run.arguments.get("dry_run"))
        said = _write_back(run, crm, trigger=str(run.arguments.get("trigger", "manual")), dry_run=dry_run)
        return Result(said[0].upper() + said[1:], crm.page)

    return Kind(
        crm.job,
        f"{crm.label} write-back",
        handler,
        read=Permission.MANAGE_CRM_CONNECTIONS,
        manage=Permission.MANAGE_CRM_CONNECTIONS,
        page=lambda _job: crm.page,
        max_attempts=3,  # what a failed attempt wrote is in the ledger: the next writes only the rest
    )


KINDS: dict[str, Kind] = {
    MAPPING: Kind(
        MAPPING,
        "Mapping run",
        map_partner,
        read=Permission.READ_MAPPING,
        manage=Permission.MANAGE_MAPPING,
        page=lambda job: f"/mapping/partners/{job.partner_id}",
    ),
    EXCHANGE: Kind(
        EXCHANGE,
        "Private exchange",
        run_exchange,
        read=Permission.READ_MAPPING,
        manage=Permission.MANAGE_MAPPING,
        page=lambda job: f"/mapping/partners/{job.partner_id}/private",
    ),
    IMPORT: Kind(
        IMPORT,
        "Import",
        commit_import,
        read=Permission.IMPORT_DATA,
        manage=Permission.IMPORT_DATA,
        page=lambda job: f"/imports/uploads/{job.arguments['token']}",
        max_attempts=1,  # all or nothing: a failed import changed nothing, and the person decides
    ),
    SALESFORCE_SYNC: Kind(
        SALESFORCE_SYNC,
        "Salesforce sync",
        sync_salesforce,
        read=Permission.MANAGE_CRM_CONNECTIONS,
        manage=Permission.MANAGE_CRM_CONNECTIONS,
        page=lambda _job: "/crm/salesforce",
        max_attempts=3,  # each attempt resumes from the checkpoints the last one reached
    ),
    MATURITY: Kind(
        MATURITY,
        "Maturity assessment",
        assess_maturity,
        read=Permission.READ_METRICS,
        manage=Permission.EDIT_PROGRAM,
        page=lambda _job: "/maturity",
    ),
    HUBSPOT_SYNC: Kind(
        HUBSPOT_SYNC,
        "HubSpot sync",
        sync_hubspot,
        read=Permission.MANAGE_CRM_CONNECTIONS,
        manage=Permission.MANAGE_CRM_CONNECTIONS,
        page=lambda _job: "/crm/hubspot",
        max_attempts=3,
    ),
    **{crm.job: write_back_kind(crm) for crm in (SALESFORCE, HUBSPOT)},
}
