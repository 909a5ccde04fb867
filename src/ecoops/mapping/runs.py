"""Mapping runs: a partner's current list against our accounts through the matching engine, then
the matches stored, the overlap history brought up to date and `overlap` partner touches written.

A run is skipped when its input (the partner's list, our accounts' keys, our opportunities, the
overrides, and the workspace's domain aliases and parent links) is the same as the last run's: nothing
it would write could differ.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pyarrow as pa
from sqlalchemy import Row, delete, insert, select
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.actors import Actor
from ecoops.attribution.models import DERIVED_TOUCH_STATUS, PartnerTouch, TouchKind
from ecoops.audit import utcnow
from ecoops.crm.models import Account, Opportunity
from ecoops.engines.matching import Overrides, match_accounts
from ecoops.mapping import company_links
from ecoops.mapping.files import PAIR_EVIDENCE
from ecoops.mapping.models import (
    Decision,
    MappingRun,
    Match,
    MatchOverride,
    OverlapPeriod,
    PartnerAccount,
)
from ecoops.mapping.overlap_events import emit_overlap_events
from ecoops.mapping.uploads import current_upload
from ecoops.partners.models import Partner
from ecoops.permissions import Permission, require

EVIDENCE_COLUMNS = ("relation", *PAIR_EVIDENCE)
OVERLAP_EVIDENCE = "overlap_period"
PRIVATE_EXCHANGE_SOURCE = "private exchange"  # PartnerUpload.columns["source"] of an exchange's list


def is_customer_label(label: str) -> bool:
    """A partner's population label that means their customers ("Customer", "customers")."""
    return label.strip().lower() in ("customer", "customers")


def is_open_opportunity_label(label: str) -> bool:
    """A partner's population label that means an open deal of theirs ("Open Opportunities", "Pipeline")."""
    return label.strip().lower() in ("open opportunity", "open opportunities", "opportunities", "pipeline")


@dataclass(frozen=True)
class RunOutcome:
    partner_id: int
    run: MappingRun | None  # None: the partner has no list yet
    skipped: bool  # True: the input had not changed since the last run


def _table(rows: Iterable[tuple[Any, ...]], names: tuple[str, ...]) -> pa.Table:
    columns = list(zip(*rows, strict=True)) or [() for _ in names]
    return pa.table(
        {n: pa.array([str(v) for v in c], pa.string()) for n, c in zip(names, columns, strict=True)}
    )


def _fingerprint(*parts: object) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(json.dumps(part, default=str, sort_keys=True).encode())
    return digest.hexdigest()


def opportunity_rows(session: Session) -> Sequence[Row[str, str, date | None, date | None, bool]]:
    """Our opportunities as the overlap-touch writer reads them (and a run's fingerprint covers them)."""
    return session.execute(
        select(
            Opportunity.crm_id,
            Opportunity.account_crm_id,
            Opportunity.created_on,
            Opportunity.close_date,
            Opportunity.is_closed,
        ).order_by(Opportunity.crm_id)
    ).all()


@dataclass(frozen=True)
class Plan:
    """A run worked out from what was read, before anything is written (the matching is done)."""

    partner_id: int
    upload_id: int
    last_run_id: int | None  # the run before it: storing checks no other run was stored meanwhile
    fingerprint: str
    started_at: datetime
    our_accounts: int
    their_accounts: int
    opportunities: Sequence[Any]
    pairs: pa.Table


def run_mapping(session: Session, actor: Actor, partner_id: int, *, today: date | None = None) -> RunOutcome:
    """Map one partner's current list; skipped when its input has not changed since the last run."""
    planned = plan_mapping(session, actor, partner_id)
    if isinstance(planned, RunOutcome):
        return planned
    return store_mapping(session, actor, planned, today or utcnow().date())


def _last_run(session: Session, partner_id: int) -> MappingRun | None:
    return session.scalar(
        select(MappingRun).where(MappingRun.partner_id == partner_id).order_by(MappingRun.id.desc()).limit(1)
    )


def plan_mapping(session: Session, actor: Actor, partner_id: int) -> Plan | RunOutcome:
    """Read the run's input and match it, writing nothing (so it may run in a read-only transaction,
    without SQLite's write lock); a RunOutcome when there is nothing to store."""
    require(actor, Permission.MANAGE_MAPPING)
    started = utcnow()
    upload = current_upload(session, partner_id)
    if upload is None:
        return RunOutcome(partner_id, None, skipped=False)
    last = _last_run(session, partner_id)
    if upload.columns.get("source") == PRIVATE_EXCHANGE_SOURCE:
        # Only what the partner released in a private exchange, mapped by the exchange (ecoops.psi).
        return RunOutcome(partner_id, last, skipped=True)
    ours = session.execute(
        select(Account.crm_id, Account.name, Account.website, Account.domain, Account.country).order_by(
            Account.crm_id
        )
    ).all()
    opportunities = opportunity_rows(session)
    overrides = session.execute(
        select(MatchOverride.our_crm_id, MatchOverride.their_id, MatchOverride.decision)
        .where(MatchOverride.partner_id == partner_id)
        .order_by(MatchOverride.id)
    ).all()
    domain_aliases, parent_links = company_links.engine_overrides(session)
    fingerprint = _fingerprint(
        upload.sha256,
        [tuple(r) for r in ours],
        [tuple(r) for r in opportunities],
        [tuple(r) for r in overrides],
        domain_aliases.to_pylist(),
        parent_links.to_pylist(),
    )
    if last is not None and last.fingerprint == fingerprint:
        return RunOutcome(partner_id, last, skipped=True)

    theirs = session.execute(
        select(PartnerAccount.their_id, PartnerAccount.name, PartnerAccount.domain, PartnerAccount.country)
        .where(PartnerAccount.upload_id == upload.id)
        .order_by(PartnerAccount.id)
    ).all()
    decided = {
        decision: _table(((o, t) for o, t, d in overrides if d == decision), ("our_id", "their_id"))
        for decision in Decision
    }
    result = match_accounts(
        _table(ours, ("id", "name", "website", "domain", "country")),
        _table(theirs, ("id", "name", "domain", "country")),
        overrides=Overrides(
            confirmed=decided[Decision.CONFIRMED],
            rejected=decided[Decision.REJECTED],
            domain_aliases=domain_aliases,
            parent_links=parent_links,
        ),
    )
    return Plan(
        partner_id,
        upload.id,
        last.id if last is not None else None,
        fingerprint,
        started,
        len(ours),
        len(theirs),
        opportunities,
        result.pairs,
    )


def plan_is_current(session: Session, plan: Plan) -> bool:
    """Whether the list a plan matched is still current and no run was stored since it was read."""
    upload, last = current_upload(session, plan.partner_id), _last_run(session, plan.partner_id)
    return (
        upload is not None and upload.id == plan.upload_id and (last.id if last else None) == plan.last_run_id
    )


def store_mapping(session: Session, actor: Actor, plan: Plan, today: date) -> RunOutcome:
    """Write a planned run: its matches, the overlap history and `overlap` touches, in the caller's
    transaction. Our accounts may have changed since the plan read them; its fingerprint is of what it
    read, so the next run sees the difference and maps again."""
    require(actor, Permission.MANAGE_MAPPING)
    partner_id = plan.partner_id
    run = MappingRun(
        partner_id=partner_id,
        upload_id=plan.upload_id,
        fingerprint=plan.fingerprint,
        run_by=actor.label,
        started_at=plan.started_at,
    )
    session.add(run)
    session.flush()
    pairs = store_matches(session, partner_id, run.id, plan.pairs)
    update_overlaps(session, partner_id, plan.upload_id, pairs, today)
    touches = write_overlap_touches(session, actor, partner_id, today, plan.opportunities)
    run.our_accounts, run.their_accounts, run.matches = plan.our_accounts, plan.their_accounts, len(pairs)
    run.finished_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor,
        "mapping.run",
        "partner",
        partner_id,
        run_id=run.id,
        matches=len(pairs),
        touches=touches,
    )
    return RunOutcome(partner_id, run, skipped=False)


@dataclass(frozen=True)
class StoredPair:
    """A match as stored, for the overlap history that follows."""

    our_crm_id: str
    their_id: str
    explanation: dict[str, Any]


# Reshapes a pair's evidence before it is stored: (our id, their id, evidence) -> evidence.
Explain = Callable[[str, str, dict[str, Any]], dict[str, Any]]


def store_matches(
    session: Session, partner_id: int, run_id: int, pairs: pa.Table, explain: Explain | None = None
) -> list[StoredPair]:
    """Replace the partner's matches with this run's, keeping the run each pair was first seen in.

    One bulk INSERT (a run stores thousands of pairs; ORM objects one by one held SQLite's write lock
    for seconds at 100,000 accounts)."""
    first_seen = {
        (our, their): run
        for our, their, run in session.execute(
            select(Match.our_crm_id, Match.their_id, Match.first_seen_run_id).where(
                Match.partner_id == partner_id
            )
        )
    }
    session.execute(delete(Match).where(Match.partner_id == partner_id))
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for row in pairs.to_pylist():
        key = (row["our_id"], row["their_id"])
        if key in rows:  # the same their_id twice in one list: one match is enough
            continue
        evidence = {name: row.get(name) for name in EVIDENCE_COLUMNS}
        rows[key] = {
            "partner_id": partner_id,
            "our_crm_id": key[0],
            "their_id": key[1],
            "method": row["method"],
            "score": float(row["score"]),
            "explanation": explain(*key, evidence) if explain is not None else evidence,
            "first_seen_run_id": first_seen.get(key, run_id),
        }
    if rows:
        session.execute(insert(Match), list(rows.values()))
    return [StoredPair(r["our_crm_id"], r["their_id"], r["explanation"]) for r in rows.values()]


def update_overlaps(
    session: Session, partner_id: int, upload_id: int, pairs: Sequence[StoredPair], today: date
) -> None:
    """Open a period for each (our account, their population) that overlaps now, close those that ended."""
    populations = dict(
        session.execute(
            select(PartnerAccount.their_id, PartnerAccount.population).where(
                PartnerAccount.upload_id == upload_id
            )
        ).all()
    )
    # A hierarchy pair links related companies, not the same account: no overlap.
    now = {
        (m.our_crm_id, populations.get(m.their_id, ""))
        for m in pairs
        if m.explanation.get("relation") == "same"
    }
    open_periods = session.scalars(
        select(OverlapPeriod).where(OverlapPeriod.partner_id == partner_id, OverlapPeriod.ended_on.is_(None))
    ).all()
    held, ended = set(), []
    for period in open_periods:
        key = (period.account_crm_id, period.their_population)
        if key in now:
            held.add(key)
        else:
            period.ended_on = today
            ended.append(key)
    began = sorted(now - held)
    session.flush()
    if began:
        session.execute(
            insert(OverlapPeriod),
            [
                {"partner_id": partner_id, "account_crm_id": a, "their_population": p, "began_on": today}
                for a, p in began
            ],
        )
    emit_overlap_events(session, partner_id, began, ended)


def write_overlap_touches(
    session: Session,
    actor: Actor,
    partner_id: int,
    today: date,
    opportunities: Sequence[Any],
) -> int:
    """One `overlap` touch per opportunity that was open while its account was a partner's customer,
    dated the first day both held (METRICS.md); an opportunity already touched keeps its first date."""
    periods = [  # rows, not ORM objects: a partner has tens of thousands after its first run
        p
        for p in session.execute(
            select(
                OverlapPeriod.id,
                OverlapPeriod.account_crm_id,
                OverlapPeriod.their_population,
                OverlapPeriod.began_on,
                OverlapPeriod.ended_on,
            ).where(OverlapPeriod.partner_id == partner_id)
        )
        if is_customer_label(p.their_population)
    ]
    if not periods:
        return 0
    touched = set(
        session.scalars(
            select(PartnerTouch.opportunity_crm_id).where(
                PartnerTouch.partner_id == partner_id, PartnerTouch.kind == TouchKind.OVERLAP.value
            )
        )
    )
    by_account: dict[str, list[Any]] = {}
    for opportunity in opportunities:
        by_account.setdefault(opportunity.account_crm_id, []).append(opportunity)
    firsts: dict[str, tuple[date, Any, str]] = {}
    for period in periods:
        for opportunity in by_account.get(period.account_crm_id, []):
            opened = opportunity.created_on or period.began_on
            closed = opportunity.close_date if opportunity.is_closed else None
            began, ended = max(period.began_on, opened), period.ended_on or today
            if opportunity.crm_id in touched or began > ended or (closed is not None and closed < began):
                continue
            if opportunity.crm_id not in firsts or began < firsts[opportunity.crm_id][0]:
                firsts[opportunity.crm_id] = (began, period, opportunity.account_crm_id)
    session.add_all(
        PartnerTouch(
            partner_id=partner_id,
            opportunity_crm_id=crm_id,
            account_crm_id=account,
            kind=TouchKind.OVERLAP.value,
            touched_on=began,
            evidence_type=OVERLAP_EVIDENCE,
            evidence_ref=str(period.id),
            status=DERIVED_TOUCH_STATUS,
            recorded_by=actor.label,
        )
        for crm_id, (began, period, account) in sorted(firsts.items())
    )
    session.flush()
    return len(firsts)


def run_all(
    session: Session,
    actor: Actor,
    partner_ids: list[int] | None = None,
    *,
    on_partner: Callable[[RunOutcome], None] | None = None,
) -> list[RunOutcome]:
    """Map each partner that has a list (or the ones given); `on_partner` hears of each as it finishes."""
    require(actor, Permission.MANAGE_MAPPING)
    ids = partner_ids or list(session.scalars(select(Partner.id).order_by(Partner.id)))
    outcomes = []
    for partner_id in ids:
        outcome = run_mapping(session, actor, partner_id)
        outcomes.append(outcome)
        if on_partner is not None:
            on_partner(outcome)
    return outcomes
