"""The overlap matrix of one partner (our populations by theirs) and the accounts behind each cell.

An overlap is a match of the latest run whose relation is `same` (a `hierarchy` pair links related
companies, not one account). A cell counts our distinct accounts, with the share of each side's
population they are, their open pipeline, and a heat level for the page; both the matrix and the
accounts behind a cell can be narrowed to one account owner's or one size segment's accounts.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, TextIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecoops.actors import Actor
from ecoops.crm.imports.report import neutralise
from ecoops.crm.models import Account, Opportunity
from ecoops.crm.segments import Segment, segment_of
from ecoops.mapping.models import Match, OverlapPeriod, PartnerAccount, PartnerUpload
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
    account_id: int = 0  # our account's row, for links to its page
    employees: int | None = None  # our account's head count (its size segment)


@dataclass(frozen=True)
class AccountFilter:
    """Which of our accounts to keep: one owner's, one size segment's; empty keeps them all."""

    owner: str = ""
    segment: Segment | None = None

    @property
    def active(self) -> bool:
        return bool(self.owner) or self.segment is not None

    def keeps(self, owner: str, employees: int | None) -> bool:
        return (not self.owner or owner == self.owner) and (
            self.segment is None or segment_of(employees) == self.segment
        )


HEAT_LEVELS = 5


def heat_level(count: int, largest: int) -> int:
    """1 to HEAT_LEVELS for a cell of `count` against the largest cell's; 0 for an empty cell."""
    return math.ceil(HEAT_LEVELS * count / largest) if count and largest else 0


@dataclass(frozen=True)
class Cell:
    """One (our population, their population) cell."""

    accounts: int  # our distinct accounts in both
    their_accounts: int  # the partner's distinct records they matched
    open_amount: Decimal  # the open pipeline of those accounts of ours, each account once
    of_ours: float  # accounts / our population's size (the filter applied to both)
    of_theirs: float  # their_accounts / the partner's population's size
    heat: int  # 1 to HEAT_LEVELS: the cell's count against the largest cell's


@dataclass(frozen=True)
class OverlapMatrix:
    our_populations: dict[str, str]  # key → name, in display order
    their_populations: list[str]
    counts: dict[tuple[str, str], int] = field(default_factory=dict)  # our accounts per cell
    cells: dict[tuple[str, str], Cell] = field(default_factory=dict)  # the same cells, in full
    our_sizes: dict[str, int] = field(default_factory=dict)  # population key → our accounts in it
    their_sizes: dict[str, int] = field(default_factory=dict)  # their label → their records in it

    def count(self, ours: str, theirs: str) -> int:
        return self.counts.get((ours, theirs), 0)

    @property
    def largest(self) -> int:
        return max(self.counts.values(), default=0)


def percent(share: float) -> str:
    """A share in whole percents, half up, that never reads as none or all when it is neither."""
    whole = math.floor(share * 100 + 0.5)
    if share > 0 and whole == 0:
        return "<1 %"
    if share < 1 and whole == 100:
        return ">99 %"
    return f"{whole} %"


def partner_or_404(session: Session, partner_id: int) -> Partner:
    partner = session.get(Partner, partner_id)
    if partner is None:
        raise NotFound(f"no partner {partner_id}")
    return partner


def overlapping_accounts(session: Session, partner_ids: Sequence[int] | None = None) -> dict[int, set[str]]:
    """Partner id → our accounts in its latest run's overlaps (the same company, not a related one): the
    accounts `overlap_rows` gives, for every partner with a current list (or those of `partner_ids`) in
    one query."""
    # Their record in the current list, as overlap_rows keeps it (a list not mapped yet has others).
    matches = (
        select(Match.partner_id, Match.our_crm_id, Match.explanation)
        .join(PartnerUpload, (PartnerUpload.partner_id == Match.partner_id) & PartnerUpload.is_current)
        .join(
            PartnerAccount,
            (PartnerAccount.upload_id == PartnerUpload.id) & (PartnerAccount.their_id == Match.their_id),
        )
    )
    if partner_ids is not None:
        matches = matches.where(Match.partner_id.in_(partner_ids))
    found: dict[int, set[str]] = defaultdict(set)
    for partner_id, crm_id, explanation in session.execute(matches):
        if explanation.get("relation", "same") == "same":
            found[partner_id].add(crm_id)
    return found


def overlap_rows(
    session: Session, partner_id: int, members: dict[str, set[str]] | None = None
) -> list[OverlapRow]:
    """Every overlapping pair of the partner's latest run; no access check (callers make it).
    `members`: our populations' memberships, when the caller has them already."""
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
    for key, accounts_in in (memberships(session) if members is None else members).items():
        for crm_id in accounts_in & our_ids:
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
                account_id=account.id,
                employees=account.employees,
            )
        )
    return rows


def matrix_of(
    names: dict[str, str], our_sizes: dict[str, int], their_sizes: dict[str, int], rows: list[OverlapRow]
) -> OverlapMatrix:
    """Each cell's distinct accounts of ours and records of theirs, shares, pipeline and heat."""
    ours: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(dict)  # our account → its open amount
    theirs: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in rows:
        for key in row.our_populations:
            ours[(key, row.their_population)][row.our_crm_id] = row.open_amount
            theirs[(key, row.their_population)].add(row.their_id)
    largest = max((len(accounts) for accounts in ours.values()), default=0)
    cells = {
        key: Cell(
            accounts=len(accounts),
            their_accounts=len(theirs[key]),
            open_amount=sum(accounts.values(), Decimal(0)),
            of_ours=len(accounts) / our_sizes[key[0]] if our_sizes.get(key[0]) else 0.0,
            of_theirs=len(theirs[key]) / their_sizes[key[1]] if their_sizes.get(key[1]) else 0.0,
            heat=heat_level(len(accounts), largest),
        )
        for key, accounts in ours.items()
    }
    return OverlapMatrix(
        our_populations=names,
        their_populations=sorted({row.their_population for row in rows}),
        counts={key: cell.accounts for key, cell in cells.items()},
        cells=cells,
        our_sizes=our_sizes,
        their_sizes=their_sizes,
    )


def _their_sizes(session: Session, partner_id: int) -> dict[str, int]:
    """The partner's population label → its records in the current list."""
    upload = current_upload(session, partner_id)
    if upload is None:
        return {}
    counted = session.execute(
        select(PartnerAccount.population, func.count())
        .where(PartnerAccount.upload_id == upload.id)
        .group_by(PartnerAccount.population)
    )
    return {population: count for population, count in counted}


def _our_sizes(session: Session, members: dict[str, set[str]], only: AccountFilter) -> dict[str, int]:
    """Our population key → its accounts that the filter keeps."""
    if only.active:
        everyone = session.execute(select(Account.crm_id, Account.owner, Account.employees))
        kept = {crm_id for crm_id, owner, employees in everyone if only.keeps(owner, employees)}
        members = {key: accounts & kept for key, accounts in members.items()}
    return {key: len(accounts) for key, accounts in members.items()}


def overlap_matrix(
    session: Session, actor: Actor, partner_id: int, *, only: AccountFilter = AccountFilter()
) -> OverlapMatrix:
    """Our populations by the partner's, each cell the number of our accounts in both (those the
    filter keeps), the shares of both populations they make and their open pipeline."""
    require(actor, Permission.READ_MAPPING)
    partner_or_404(session, partner_id)
    members = memberships(session)
    rows = [row for row in overlap_rows(session, partner_id, members) if only.keeps(row.owner, row.employees)]
    return matrix_of(
        population_names(session), _our_sizes(session, members, only), _their_sizes(session, partner_id), rows
    )


def cell_accounts(
    session: Session,
    actor: Actor,
    partner_id: int,
    *,
    ours: str = "",
    theirs: str | None = None,
    only: AccountFilter = AccountFilter(),
) -> list[OverlapRow]:
    """The overlapping pairs behind a cell (either side may be left open: a whole row or column)."""
    require(actor, Permission.READ_MAPPING)
    partner_or_404(session, partner_id)
    return [
        row
        for row in overlap_rows(session, partner_id)
        if (not ours or ours in row.our_populations)
        and (theirs is None or row.their_population == theirs)
        and only.keeps(row.owner, row.employees)
    ]


@dataclass(frozen=True)
class OverlapAccount:
    """One of our accounts behind a cell, with the partner's records it matched there."""

    crm_id: str
    account_id: int
    name: str
    owner: str
    open_opportunities: int
    open_amount: Decimal
    pairs: tuple[OverlapRow, ...]


def by_account(rows: list[OverlapRow]) -> list[OverlapAccount]:
    """The pairs grouped by our account (a matrix cell counts accounts), largest open pipeline first."""
    grouped: dict[str, list[OverlapRow]] = defaultdict(list)
    for row in rows:
        grouped[row.our_crm_id].append(row)
    accounts = [
        OverlapAccount(
            crm_id=crm_id,
            account_id=pairs[0].account_id,
            name=pairs[0].our_name,
            owner=pairs[0].owner,
            open_opportunities=pairs[0].open_opportunities,
            open_amount=pairs[0].open_amount,
            pairs=tuple(pairs),
        )
        for crm_id, pairs in grouped.items()
    ]
    accounts.sort(key=lambda a: (-a.open_amount, a.name.lower(), a.crm_id))
    return accounts


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
