"""Mapping pages: partners' lists and runs, a partner's overlap matrix, the accounts behind a cell and
why they matched, decisions on matches, CSV export, custom populations, sharing rules, the
"view as this partner" preview, and the workspace's domain aliases and parent links."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor, Role
from ecoops.config import Settings
from ecoops.crm import service as crm
from ecoops.crm.imports import uploads as stored_files
from ecoops.crm.segments import LABELS as SEGMENT_LABELS
from ecoops.crm.segments import Segment
from ecoops.jobs.models import Job, JobState
from ecoops.jobs.names import MAPPING, mapping_subject
from ecoops.jobs.queue import active_job, enqueue, latest_job
from ecoops.mapping import company_links, cross_partner, overrides, populations, runs, sharing, uploads
from ecoops.mapping.files import MappingFileError
from ecoops.mapping.models import Decision, MappingRun, PartnerUpload, Population, SharingLevel
from ecoops.mapping.overlaps import (
    AccountFilter,
    by_account,
    cell_accounts,
    overlap_matrix,
    partner_or_404,
    percent,
    write_overlaps_csv,
)
from ecoops.pagination import Page, paginate
from ecoops.partners.models import Partner
from ecoops.permissions import Permission
from ecoops.psi.results import private_counts
from ecoops.referrals.access import may_refer_out
from ecoops.referrals.queries import ReferralFilters, search_referrals
from ecoops.web.changes import change_and_return
from ecoops.web.deps import app_settings, db, page_permission
from ecoops.web.fields import Id, PageNumber
from ecoops.web.security import csrf_protect
from ecoops.web.templating import flash, render

SELLER_REFERRALS = 10  # of a seller's referrals on their home, newest first; the rest in the inbox
router = APIRouter(dependencies=[Depends(csrf_protect)])
reader = page_permission(Permission.READ_MAPPING)
manager = page_permission(Permission.MANAGE_MAPPING)


def _last_run(session: Session, partner_id: int) -> MappingRun | None:
    return session.scalar(
        select(MappingRun).where(MappingRun.partner_id == partner_id).order_by(MappingRun.id.desc()).limit(1)
    )


@router.get("/mapping")
def mapping_home(
    request: Request,
    page: PageNumber = 1,
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    """A page of partners with their current list and last run (two queries for the page, not two each)."""
    found = paginate(
        session, select(Partner).order_by(Partner.name, Partner.id), page=page, per_page=settings.page_size
    )
    ids = [p.id for p in found.items]
    current = {
        u.partner_id: u
        for u in session.scalars(
            select(PartnerUpload).where(PartnerUpload.partner_id.in_(ids), PartnerUpload.is_current)
        )
    }
    latest = (
        select(func.max(MappingRun.id)).where(MappingRun.partner_id.in_(ids)).group_by(MappingRun.partner_id)
    )
    last = {r.partner_id: r for r in session.scalars(select(MappingRun).where(MappingRun.id.in_(latest)))}
    rows = [(p, current.get(p.id), last.get(p.id)) for p in found.items]
    return render(request, "mapping/index.html", rows=rows, page=found)


def _pending(session: Session, partner_id: int) -> bool:
    """A list newer than the last run has not been mapped yet (its run is queued, running or failed)."""
    current, last_run = uploads.current_upload(session, partner_id), _last_run(session, partner_id)
    return current is not None and (last_run is None or last_run.upload_id != current.id)


def account_filter(
    owner: str = Query("", max_length=200, description="One account owner's accounts; empty: all"),
    segment: Segment | None = Query(None, description="One size segment's accounts; absent: all"),
) -> AccountFilter:
    return AccountFilter(owner=owner, segment=segment)


def cell_url(
    partner_id: int,
    ours: str = "",
    theirs: str | None = None,
    only: AccountFilter = AccountFilter(),
    *,
    export: bool = False,
) -> str:
    """The drill-down of a cell (a row, a column, or everything) or its CSV, keeping the filter."""
    query = {"ours": ours, "theirs": theirs or "", "owner": only.owner, "segment": only.segment or ""}
    if theirs == "":
        query["no_population"] = "1"
    filled = urlencode({key: value for key, value in query.items() if value})
    path = f"/mapping/partners/{partner_id}/overlaps{'.csv' if export else ''}"
    return f"{path}?{filled}" if filled else path


def _filter_context(session: Session, actor: Actor, only: AccountFilter) -> dict[str, Any]:
    """What the owner and segment filter form needs, and the links to cells that keep the filter."""
    return {
        "only": only,
        "owners": crm.account_owners(session, actor),
        "segments": SEGMENT_LABELS,
        "cell_url": cell_url,
        "percent": percent,
    }


@router.get("/mapping/partners/{partner_id}")
def partner_mapping(
    request: Request,
    partner_id: Id,
    only: AccountFilter = Depends(account_filter),
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    partner = partner_or_404(session, partner_id)
    return render(
        request,
        "mapping/partner.html",
        **_filter_context(session, actor, only),
        currency=settings.currency,
        partner=partner,
        current=uploads.current_upload(session, partner_id),
        last_run=_last_run(session, partner_id),
        pending=_pending(session, partner_id),
        job=latest_job(session, actor, mapping_subject(partner_id)),
        matrix=overlap_matrix(session, actor, partner_id, only=only),
        history=uploads.uploads(session, actor, partner_id),
        decisions=overrides.overrides(session, actor, partner_id),
        private=private_counts(session, partner_id),  # counts from a private exchange
    )


def queue_mapping(session: Session, actor: Actor, partner_id: int) -> Job:
    """A mapping run for the worker, in the caller's transaction. A run still queued maps whatever list
    is current when it starts, so it serves; a running one may have read an older list: queue another."""
    subject = mapping_subject(partner_id)
    queued = active_job(session, subject)
    if queued is not None and queued.state == JobState.QUEUED:
        return queued
    return enqueue(
        session, actor, MAPPING, subject=subject, arguments={"partner_id": partner_id}, partner_id=partner_id
    )


@router.post("/mapping/partners/{partner_id}/uploads")
def upload_list(
    request: Request,
    partner_id: Id,
    file: UploadFile = File(...),
    actor: Actor = Depends(manager),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    partner_or_404(session, partner_id)
    filename = file.filename or "partner.csv"
    token = stored_files.save_upload(settings.uploads_dir, file.file, filename)
    path = stored_files.upload_path(settings.uploads_dir, token)
    try:
        outcome = uploads.upload_partner_list(session, actor, partner_id, path, Path(filename).name)
    except MappingFileError as exc:
        flash(request, str(exc), "error")
        return RedirectResponse(f"/mapping/partners/{partner_id}", status_code=303)
    finally:
        stored_files.remove_upload(settings.uploads_dir, token)
    upload = outcome.upload
    if outcome.changed:
        # Queued in this transaction: the run exists exactly when the list does. The page follows it.
        queue_mapping(session, actor, partner_id)
        skipped = len(upload.rows_without_id) + len(upload.rows_without_key)
        flash(
            request,
            f"{upload.rows:,} accounts stored; mapping queued"
            + (f"; {skipped:,} rows reported below" if skipped else ""),
            "success",
        )
    elif _pending(session, partner_id):
        # The same file again while its run has not finished: show that run, or queue one if none is.
        queue_mapping(session, actor, partner_id)
        flash(request, f"{upload.filename} is the current list, not mapped yet: its mapping run is queued")
    else:
        flash(request, f"{upload.filename} has the same content as the current list: nothing changed")
    return RedirectResponse(f"/mapping/partners/{partner_id}", status_code=303)


@router.post("/mapping/partners/{partner_id}/runs")
def map_again(
    request: Request, partner_id: Id, actor: Actor = Depends(manager), session: Session = Depends(db)
) -> Response:
    """Map the current list again (after alias or link changes, or our accounts' import)."""
    partner_or_404(session, partner_id)
    if uploads.current_upload(session, partner_id) is None:
        flash(request, "no list to map: upload the partner's export first", "error")
    else:
        queue_mapping(session, actor, partner_id)
        flash(request, "mapping run queued", "success")
    return RedirectResponse(f"/mapping/partners/{partner_id}", status_code=303)


def _their_population(
    theirs: str | None = Query(None, description="The partner's population label; absent: all"),
    no_population: bool = Query(False, description="Only the partner's records with no population"),
) -> str | None:
    # A page drops empty query values, so the records without a population have a flag of their own.
    return "" if no_population else theirs


@router.get("/mapping/partners/{partner_id}/overlaps")
def overlaps_page(
    request: Request,
    partner_id: Id,
    ours: str = Query(""),
    theirs: str | None = Depends(_their_population),
    only: AccountFilter = Depends(account_filter),
    page: PageNumber = 1,
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    """Our accounts behind a cell (one row each, as the matrix counts them) and the partner's records
    each matched, with why."""
    partner = partner_or_404(session, partner_id)
    accounts = by_account(cell_accounts(session, actor, partner_id, ours=ours, theirs=theirs, only=only))
    start = (page - 1) * settings.page_size
    return render(
        request,
        "mapping/overlaps.html",
        **_filter_context(session, actor, only),
        partner=partner,
        page=Page(accounts[start : start + settings.page_size], len(accounts), page, settings.page_size),
        ours=ours,
        theirs=theirs,
        names=populations.population_names(session),
        currency=settings.currency,
        may_ask=may_refer_out(actor),
    )


@router.get("/mapping/partners/{partner_id}/overlaps.csv")
def overlaps_csv(
    partner_id: Id,
    ours: str = Query(""),
    theirs: str | None = Depends(_their_population),
    only: AccountFilter = Depends(account_filter),
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
) -> Response:
    rows = cell_accounts(session, actor, partner_id, ours=ours, theirs=theirs, only=only)
    out = io.StringIO()
    write_overlaps_csv(rows, out)
    return Response(
        "\ufeff" + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="overlaps-{partner_id}.csv"'},
    )


@router.post("/mapping/partners/{mapped_partner_id}/decisions")
def decide(
    request: Request,
    mapped_partner_id: Id,
    our_crm_id: str = Form(...),
    their_id: str = Form(...),
    decision: Decision = Form(...),
    reason: str = Form(""),
    back: str = Form(""),
    actor: Actor = Depends(manager),
    session: Session = Depends(db),
) -> Response:
    partner_or_404(session, mapped_partner_id)
    try:
        overrides.decide(
            session,
            actor,
            mapped_partner_id,
            our_crm_id=our_crm_id.strip(),
            their_id=their_id.strip(),
            decision=decision,
            reason=reason,
        )
    except InvalidInput as exc:
        flash(request, str(exc), "error")
    else:
        runs.run_mapping(session, actor, mapped_partner_id)
        flash(request, f"{our_crm_id} and {their_id}: {decision.value}", "success")
    target = back if back.startswith("/mapping/") else f"/mapping/partners/{mapped_partner_id}"
    return RedirectResponse(target, status_code=303)


@router.get("/mapping/populations")
def populations_page(
    request: Request, actor: Actor = Depends(reader), session: Session = Depends(db)
) -> Response:
    custom = session.scalars(select(Population).order_by(Population.name)).all()
    sizes = {key: len(members) for key, members in populations.memberships(session).items()}
    return render(
        request,
        "mapping/populations.html",
        built_in=populations.BUILT_IN,
        custom=[(p, json.dumps(p.filter, indent=2)) for p in custom],
        sizes=sizes,
        prefix=populations.CUSTOM_PREFIX,
    )


def _filter_json(text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"the filter is not JSON: {exc.msg} (line {exc.lineno})") from None


@router.post("/mapping/populations")
def create_population(
    request: Request,
    name: str = Form(...),
    filter: str = Form(...),
    actor: Actor = Depends(manager),
    session: Session = Depends(db),
) -> Response:
    try:
        populations.create_population(session, actor, name=name, filter=_filter_json(filter))
    except InvalidInput as exc:
        flash(request, str(exc), "error")
    return RedirectResponse("/mapping/populations", status_code=303)


@router.post("/mapping/populations/{population_id}")
def update_population(
    request: Request,
    population_id: Id,
    name: str = Form(...),
    filter: str = Form(...),
    actor: Actor = Depends(manager),
    session: Session = Depends(db),
) -> Response:
    try:
        populations.update_population(session, actor, population_id, name=name, filter=_filter_json(filter))
    except InvalidInput as exc:
        flash(request, str(exc), "error")
    return RedirectResponse("/mapping/populations", status_code=303)


def _rules_from_form(form: Mapping[str, str | list[str]], keys: list[str]) -> dict[str, sharing.Rule]:
    """`level_<key>` and `fields_<key>` (repeated) for each population on the form."""
    rules = {}
    for key in keys:
        level = form.get(f"level_{key}")
        if isinstance(level, str) and level in SharingLevel.__members__.values():
            given = form.get(f"fields_{key}", [])
            fields = [given] if isinstance(given, str) else given
            rules[key] = sharing.Rule(SharingLevel(level), tuple(fields))
    return rules


async def _form(request: Request) -> dict[str, str | list[str]]:
    form = await request.form()
    return {
        key: [str(v) for v in form.getlist(key)] if key.startswith("fields_") else str(form[key])
        for key in form
    }


def _sharing_page(request: Request, session: Session, partner: Partner | None) -> Response:
    return render(
        request,
        "mapping/sharing.html",
        partner=partner,
        names=populations.population_names(session),
        rules=sharing.rules_for(session, partner.id if partner else None),
        levels=list(SharingLevel),
        fields=sharing.SHAREABLE_FIELDS,
    )


@router.get("/mapping/sharing-defaults")
def sharing_defaults(
    request: Request, actor: Actor = Depends(reader), session: Session = Depends(db)
) -> Response:
    return _sharing_page(request, session, None)


@router.get("/mapping/partners/{partner_id}/sharing")
def partner_sharing(
    request: Request, partner_id: Id, actor: Actor = Depends(reader), session: Session = Depends(db)
) -> Response:
    return _sharing_page(request, session, partner_or_404(session, partner_id))


@router.post("/mapping/sharing-defaults")
async def save_sharing_defaults(
    request: Request, actor: Actor = Depends(manager), session: Session = Depends(db)
) -> Response:
    keys = list(populations.population_names(session))
    sharing.set_rules(session, actor, None, _rules_from_form(await _form(request), keys))
    flash(request, "Default sharing saved: partners without rules of their own get these", "success")
    return RedirectResponse("/mapping/sharing-defaults", status_code=303)


@router.post("/mapping/partners/{partner_id}/sharing")
async def save_partner_sharing(
    request: Request, partner_id: Id, actor: Actor = Depends(manager), session: Session = Depends(db)
) -> Response:
    keys = list(populations.population_names(session))
    sharing.set_rules(session, actor, partner_id, _rules_from_form(await _form(request), keys))
    flash(request, "Sharing saved", "success")
    return RedirectResponse(f"/mapping/partners/{partner_id}/sharing", status_code=303)


@router.get("/mapping/partners/{partner_id}/preview")
def preview(
    request: Request, partner_id: Id, actor: Actor = Depends(reader), session: Session = Depends(db)
) -> Response:
    """What the partner would see, computed by the same function its API and portal use."""
    partner = partner_or_404(session, partner_id)
    shown = sharing.shared_view(session, actor, partner_id)
    return render(
        request, "mapping/preview.html", partner=partner, shown=shown, counts=sharing.SharedCounts(shown)
    )


@router.get("/mapping/shared-accounts")
def shared_accounts_page(
    request: Request, actor: Actor = Depends(reader), session: Session = Depends(db)
) -> Response:
    return render(
        request, "mapping/shared_accounts.html", accounts=cross_partner.most_shared_accounts(session, actor)
    )


@router.get("/mapping/co-sell")
def co_sell_page(
    request: Request, owner: str = Query(""), actor: Actor = Depends(reader), session: Session = Depends(db)
) -> Response:
    # A seller's home (GET /) is this page for their own accounts: their referrals come with it.
    mine = (
        search_referrals(session, actor, ReferralFilters(mine=True), per_page=SELLER_REFERRALS)
        if actor.role == Role.SALES
        else None
    )
    return render(
        request,
        "mapping/co_sell.html",
        owner=owner,
        by_owner=cross_partner.co_sell_list(session, actor, owner=owner),
        may_ask=may_refer_out(actor),
        my_referrals=mine,
    )


@router.get("/mapping/companies")
def companies_page(
    request: Request, actor: Actor = Depends(reader), session: Session = Depends(db)
) -> Response:
    """The workspace's domain aliases and parent/subsidiary links, which every mapping run uses."""
    domains = {(c, p): (cd, pd) for c, p, cd, pd in company_links.link_domains(session)}
    links = [
        (link, *domains[(link.child_crm_id, link.parent_crm_id)])
        for link in company_links.parent_links(session, actor)
    ]
    return render(
        request, "mapping/companies.html", aliases=company_links.domain_aliases(session, actor), links=links
    )


def _change_companies(request: Request, change: Callable[[], str]) -> Response:
    """Make an alias or link change, saying when it takes effect."""

    def work() -> str:
        return f"{change()}; each partner is re-mapped with it at its next run (ecoops map)"

    return change_and_return(request, work, "/mapping/companies")


@router.post("/mapping/companies/aliases")
def add_alias(
    request: Request,
    alias: str = Form(...),
    domain: str = Form(...),
    actor: Actor = Depends(manager),
    session: Session = Depends(db),
) -> Response:
    def add() -> str:
        added = company_links.add_domain_alias(session, actor, alias=alias, domain=domain)
        return f"{added.alias} is now matched as {added.domain}"

    return _change_companies(request, add)


@router.post("/mapping/companies/aliases/{alias_id}/remove")
def remove_alias(
    request: Request, alias_id: Id, actor: Actor = Depends(manager), session: Session = Depends(db)
) -> Response:
    def remove() -> str:
        company_links.remove_domain_alias(session, actor, alias_id)
        return "Alias removed"

    return _change_companies(request, remove)


@router.post("/mapping/companies/links")
def add_link(
    request: Request,
    child_crm_id: str = Form(...),
    parent_crm_id: str = Form(...),
    actor: Actor = Depends(manager),
    session: Session = Depends(db),
) -> Response:
    def add() -> str:
        link = company_links.add_parent_link(
            session, actor, child_crm_id=child_crm_id, parent_crm_id=parent_crm_id
        )
        return f"{link.child_crm_id} is now a subsidiary of {link.parent_crm_id}"

    return _change_companies(request, add)


@router.post("/mapping/companies/links/{parent_link_id}/remove")
def remove_link(
    request: Request, parent_link_id: Id, actor: Actor = Depends(manager), session: Session = Depends(db)
) -> Response:
    def remove() -> str:
        company_links.remove_parent_link(session, actor, parent_link_id)
        return "Link removed"

    return _change_companies(request, remove)
