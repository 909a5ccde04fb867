"""The overlap matrix of one partner (our populations by theirs) and the accounts behind each cell.

An overlap is a match of the latest run whose relation is `same` (a `hierarchy` pair links related
companies, not one account). A cell counts our distinct accounts.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, TextIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecoops.actors import Actor
from ecoops.crm.imports.report import neutralise
from ecoops.crm.models import Account, Opportunity
from ecoops.mapping.models import Match, OverlapPeriod, PartnerAccount
from ecoops.mapping.populations import memberships, population_names
from ecoops.mapping.uploads import current_upload
from ecoops.partners.models import Partner
from ecoops.permissions import NotFound, Permission, require


@dataclass(frozen=True)
class OverlapRow:
    """One overlapping pair, with what each side knows about the account."""

    our_crm_id: str
    our_name: str
    owner: str
    open_opportunities: int
    open_amount: Decimal
    their_id: str
    their_name: str
    their_population: str
    their_fields: dict[str, str]
    method: str
    score: float
    explanation: dict[str, Any]
    our_populations: tuple[str, ...]
    since: date | None = None  # the day the current overlap period began


@dataclass(frozen=True)
class OverlapMatrix:
    our_populations: dict[str, str]  # key → name, in display order
    their_populations: list[str]
    counts: dict[tuple[str, str], int] = field(default_factory=dict)

    def count(self, ours: str, theirs: str) -> int:
        return self.counts.get((ours, theirs), 0)


def partner_or_404(session: Session, partner_id: int) -> Partner:
    partner = session.get(Partner, partner_id)
    if partner is None:
        raise NotFound(f"no partner {partner_id}")
    return partner


def overlap_rows(session: Session, partner_id: int) -> list[OverlapRow]:
    """Every overlapping pair of the partner's latest run; no access check (callers make it)."""
    upload = current_upload(session, partner_id)
    if upload is None:
        return []
    matches = session.scalars(
        select(Match).where(Match.partner_id == partner_id).order_by(Match.our_crm_id, Match.their_id)
    ).all()
    matches = [m for m in matches if m.explanation.get("relation", "same") == "same"]
    theirs = {
        a.their_id: a
        for a in session.scalars(select(PartnerAccount).where(PartnerAccount.upload_id == upload.id))
    }
    our_ids = {m.our_crm_id for m in matches}
    # A subquery, not a list of ids: a big partner overlaps more accounts than SQLite takes parameters.
    matched = select(Match.our_crm_id).where(Match.partner_id == partner_id).scalar_subquery()
    accounts = {a.crm_id: a for a in session.scalars(select(Account).where(Account.crm_id.in_(matched)))}
    open_by_account = {
        crm_id: (count, amount or Decimal(0))
        for crm_id, count, amount in session.execute(
            select(Opportunity.account_crm_id, func.count(), func.sum(Opportunity.amount))
            .where(Opportunity.account_crm_id.in_(matched), Opportunity.is_closed.is_(False))
            .group_by(Opportunity.account_crm_id)
        )
    }
    since = {
        (account, population): began
        for account, population, began in session.execute(
            select(
                OverlapPeriod.account_crm_id, OverlapPeriod.their_population, OverlapPeriod.began_on
            ).where(OverlapPeriod.partner_id == partner_id, OverlapPeriod.ended_on.is_(None))
        )
    }
    populations_of: dict[str, list[str]] = defaultdict(list)
    for key, members in memberships(session).items():
        for crm_id in members & our_ids:
            populations_of[crm_id].append(key)
    rows = []
    for match in matches:
        account, their = accounts.get(match.our_crm_id), theirs.get(match.their_id)
        if account is None or their is None:
            continue
        count, amount = open_by_account.get(match.our_crm_id, (0, Decimal(0)))
        rows.append(
            OverlapRow(
                our_crm_id=account.crm_id,
                our_name=account.name,
                owner=account.owner,
                open_opportunities=count,
                open_amount=Decimal(amount),
                their_id=their.their_id,
                their_name=their.name,
                their_population=their.population,
                their_fields=dict(their.fields),
                method=match.method,
                score=match.score,
                explanation=dict(match.explanation),
                our_populations=tuple(populations_of[account.crm_id]),
                since=since.get((account.crm_id, their.population)),
            )
        )
    return rows


def matrix_of(session: Session, rows: list[OverlapRow]) -> OverlapMatrix:
    """Count our distinct accounts per (our population, their population)."""
    cells: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in rows:
        for key in row.our_populations:
            cells[(key, row.their_population)].add(row.our_crm_id)
    return OverlapMatrix(
        our_populations=population_names(session),
        their_populations=sorted({row.their_population for row in rows}),
        counts={cell: len(accounts) for cell, accounts in cells.items()},
    )


def overlap_matrix(session: Session, actor: Actor, partner_id: int) -> OverlapMatrix:
    """Our populations by the partner's, each cell the number of our accounts in both."""
    require(actor, Permission.READ_MAPPING)
    partner_or_404(session, partner_id)
    return matrix_of(session, overlap_rows(session, partner_id))


def cell_accounts(
    session: Session, actor: Actor, partner_id: int, *, ours: str = "", theirs: str | None = None
) -> list[OverlapRow]:
    """The overlapping pairs behind a cell (either side may be left open: a whole row or column)."""
    require(actor, Permission.READ_MAPPING)
    partner_or_404(session, partner_id)
    return [
        row
        for row in overlap_rows(session, partner_id)
        if (not ours or ours in row.our_populations) and (theirs is None or row.their_population == theirs)
    ]


EXPORT_COLUMNS = (
    "our_id",
    "our_name",
    "owner",
    "open_opportunities",
    "open_amount",
    "their_id",
    "their_name",
    "their_population",
    "method",
    "score",
    "explanation",
)


def write_overlaps_csv(rows: list[OverlapRow], out: TextIO) -> None:
    """The pairs behind a cell as CSV (out opened with newline=""), the partner's shared fields last;
    every cell safe in a spreadsheet."""
    extra = sorted({name for row in rows for name in row.their_fields})
    writer = csv.writer(out)
    writer.writerow([*EXPORT_COLUMNS, *map(neutralise, extra)])  # the partner's own column names
    for row in rows:
        cells: list[object] = [
            row.our_crm_id,
            row.our_name,
            row.owner,
            row.open_opportunities,
            f"{row.open_amount:.2f}",
            row.their_id,
            row.their_name,
            row.their_population,
            row.method,
            f"{row.score:.4f}",
            row.explanation.get("explanation") or "",
            *(row.their_fields.get(name, "") for name in extra),
        ]
        writer.writerow([neutralise(str(cell)) for cell in cells])
