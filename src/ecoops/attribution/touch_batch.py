"""Touches from elsewhere: a team's history of partner touches (referrals, co-sell, marketplace…) with
their real dates, by `POST /api/v1/touches` or the `touches` CSV import (docs/influence.md).

A batch is all or nothing: every row is checked first, and one bad row refuses the batch with every
problem named by row and field. Each row carries the sender's own id (`external_id`); a row whose id is
stored already is left as it is, so a batch sent again (a retry after a time-out) adds nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.actors import Actor
from ecoops.attribution.models import PartnerTouch, TouchKind
from ecoops.audit import utcnow
from ecoops.crm.models import Account, Opportunity
from ecoops.partners.models import Partner
from ecoops.permissions import Permission, require

_INSERT_OR_NOTHING = {
    True: sqlite_insert(PartnerTouch)
    .on_conflict_do_nothing(index_elements=["external_id"])
    .returning(PartnerTouch.external_id),
    False: postgresql_insert(PartnerTouch)
    .on_conflict_do_nothing(index_elements=["external_id"])
    .returning(PartnerTouch.external_id),
}
IMPORT_EVIDENCE = "import"  # a touch's evidence_type when it came in a batch; evidence_ref: its external id
# Overlap touches are derived from account mapping's own records, never brought in.
IMPORTABLE_KINDS = tuple(k.value for k in TouchKind if k != TouchKind.OVERLAP)
IMPORTABLE_STATUSES = ("proposed", "confirmed")
MAX_EXTERNAL_ID = 120
MAX_NOTE = 4000
MAX_ROWS = 5000


@dataclass(frozen=True)
class TouchIn:
    external_id: str
    partner_id: int | None  # None: the sender named a partner we do not have (the problem says which)
    kind: str
    touched_on: date | None
    opportunity_crm_id: str = ""
    account_crm_id: str = ""
    note: str = ""
    status: str = "proposed"


@dataclass(frozen=True)
class RowProblem:
    row: int  # the row's index in the batch (0-based), or its line in a file
    field: str
    message: str


@dataclass
class BatchResult:
    new: list[PartnerTouch] = field(default_factory=list)
    existing: list[PartnerTouch] = field(default_factory=list)  # sent before: left as stored


class BatchRefused(ValueError):
    def __init__(self, problems: list[RowProblem]) -> None:
        super().__init__(f"{len(problems)} problem(s); nothing was stored")
        self.problems = problems


class PartnerNames:
    """Our partners by their CRM id or their name (case and outer spaces aside), as senders name them."""

    def __init__(self, session: Session) -> None:
        rows = session.execute(select(Partner.id, Partner.crm_id, Partner.name)).all()
        self.by_crm_id = {crm_id: pid for pid, crm_id, _ in rows if crm_id}
        self.by_name = {name.strip().lower(): pid for pid, _, name in rows}

    def __call__(self, named: str) -> int | None:
        return self.by_crm_id.get(named.strip()) or self.by_name.get(named.strip().lower())


def _opportunity_accounts(session: Session, rows: Sequence[TouchIn]) -> dict[str, str]:
    """The account of each opportunity the rows name (of those that exist)."""
    named = {r.opportunity_crm_id for r in rows if r.opportunity_crm_id}
    statement = select(Opportunity.crm_id, Opportunity.account_crm_id).where(Opportunity.crm_id.in_(named))
    return {crm_id: account for crm_id, account in session.execute(statement)}


def check(
    session: Session, rows: Sequence[TouchIn], today: date, numbers: Sequence[int] | None = None
) -> list[RowProblem]:
    """Every problem of every row (`numbers` name the rows: indexes by default)."""
    numbers = list(numbers) if numbers is not None else list(range(len(rows)))
    problems: list[RowProblem] = []
    if len(rows) > MAX_ROWS:
        return [RowProblem(numbers[MAX_ROWS], "", f"at most {MAX_ROWS} touches in one batch")]
    partners = set(
        session.scalars(
            select(Partner.id).where(Partner.id.in_({r.partner_id for r in rows if r.partner_id}))
        )
    )
    opportunities = _opportunity_accounts(session, rows)
    accounts = set(
        session.scalars(
            select(Account.crm_id).where(
                Account.crm_id.in_({r.account_crm_id for r in rows if r.account_crm_id})
            )
        )
    )
    first_row: dict[str, int] = {}
    for number, row in zip(numbers, rows, strict=True):

        def problem(name: str, message: str, number: int = number) -> None:
            problems.append(RowProblem(number, name, message))

        external_id = row.external_id.strip()
        if not external_id:
            problem("external_id", "required: your own id of the touch, so that a retry adds nothing twice")
        elif len(external_id) > MAX_EXTERNAL_ID:
            problem("external_id", f"at most {MAX_EXTERNAL_ID} characters")
        elif external_id in first_row:
            problem("external_id", f"{external_id!r} is also row {first_row[external_id]}")
        else:
            first_row[external_id] = number
        if row.partner_id is not None and row.partner_id not in partners:
            problem("partner_id", f"no partner {row.partner_id}")
        if row.kind not in IMPORTABLE_KINDS:
            problem("kind", f"one of {', '.join(IMPORTABLE_KINDS)}")
        if row.touched_on is None:
            problem("touched_on", "required: the day it happened")
        elif row.touched_on > today:
            problem("touched_on", f"{row.touched_on} is in the future")
        if row.status not in IMPORTABLE_STATUSES:
            problem("status", f"one of {', '.join(IMPORTABLE_STATUSES)}")
        if len(row.note) > MAX_NOTE:
            problem("note", f"at most {MAX_NOTE} characters")
        if row.opportunity_crm_id:
            account = opportunities.get(row.opportunity_crm_id)
            if account is None:
                problem("opportunity_crm_id", f"no opportunity {row.opportunity_crm_id!r}")
            elif row.account_crm_id and row.account_crm_id != account:
                problem("account_crm_id", f"the opportunity is account {account!r}'s")
        elif not row.account_crm_id:
            problem("opportunity_crm_id", "name the opportunity (or the account) the touch is on")
        elif row.account_crm_id not in accounts:
            problem("account_crm_id", f"no account {row.account_crm_id!r}")
    return problems


def add_touches(
    session: Session, actor: Actor, rows: Sequence[TouchIn], today: date, numbers: Sequence[int] | None = None
) -> BatchResult:
    """Store the batch's new touches, or nothing (BatchRefused, naming every problem)."""
    require(actor, Permission.IMPORT_DATA)
    if any(r.status == "confirmed" for r in rows):
        require(actor, Permission.REVIEW_ATTRIBUTION)
    problems = check(session, rows, today, numbers)
    if problems:
        raise BatchRefused(problems)
    opportunities = _opportunity_accounts(session, rows)
    now = utcnow()
    values: list[dict[str, object]] = []
    for row in rows:
        assert row.partner_id is not None and row.touched_on is not None  # checked above
        external_id = row.external_id.strip()
        values.append(
            {
                "external_id": external_id,
                "partner_id": row.partner_id,
                "opportunity_crm_id": row.opportunity_crm_id,
                "account_crm_id": opportunities.get(row.opportunity_crm_id, row.account_crm_id),
                "kind": row.kind,
                "touched_on": row.touched_on,
                "evidence_type": IMPORT_EVIDENCE,
                "evidence_ref": external_id,
                "note": row.note.strip(),
                "status": row.status,
                "recorded_by": actor.label,
                "recorded_at": now,
                "reviewed_by": "",
                "review_reason": "",
            }
        )
    # One statement per row, whoever sends the same batch at the same time: the unique external id
    # decides, and a row stored already (by a retry's first attempt, or a twin request) is left as it is.
    insert = _INSERT_OR_NOTHING[session.get_bind().dialect.name == "sqlite"]
    added = {session.scalar(insert, one) for one in values} - {None}
    external_ids = [r.external_id.strip() for r in rows]
    stored = {
        t.external_id: t
        for t in session.scalars(select(PartnerTouch).where(PartnerTouch.external_id.in_(external_ids)))
    }
    result = BatchResult()
    for external_id in external_ids:
        (result.new if external_id in added else result.existing).append(stored[external_id])
    if result.new:
        audit.record(
            session,
            actor,
            "touches.imported",
            "partner_touch",
            None,
            new=len(result.new),
            existing=len(result.existing),
            first_id=result.new[0].id,
            last_id=result.new[-1].id,
        )
    return result
