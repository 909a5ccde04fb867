"""The events of overlap history: an (our account, their population) overlap began or ended.

Emitted by the mapping run beside the overlap periods it opens and closes, in one statement per kind
(a first run can open thousands), each carrying what a seller needs to act: our account's name and
owner, their population, our open pipeline on the account and the partner's name.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from itertools import islice
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecoops.crm.models import Account, Opportunity
from ecoops.events import EventKind, emit_many
from ecoops.partners.models import Partner

CHUNK = 5000  # account ids per IN list, under every backend's parameter limit


def _chunks(items: list[str]) -> Iterable[list[str]]:
    it = iter(items)
    while chunk := list(islice(it, CHUNK)):
        yield chunk


def _accounts(session: Session, crm_ids: list[str]) -> tuple[dict[str, tuple[str, str]], dict[str, Decimal]]:
    """Name and owner of each account, and the sum of its open opportunities' amounts."""
    names: dict[str, tuple[str, str]] = {}
    pipeline: dict[str, Decimal] = {}
    for chunk in _chunks(crm_ids):
        for crm_id, name, owner in session.execute(
            select(Account.crm_id, Account.name, Account.owner).where(Account.crm_id.in_(chunk))
        ):
            names[crm_id] = (name, owner)
        for crm_id, total in session.execute(
            select(Opportunity.account_crm_id, func.sum(Opportunity.amount))
            .where(Opportunity.account_crm_id.in_(chunk), ~Opportunity.is_closed)
            .group_by(Opportunity.account_crm_id)
        ):
            if total is not None:
                pipeline[crm_id] = Decimal(total)
    return names, pipeline


def emit_overlap_events(
    session: Session, partner_id: int, began: list[tuple[str, str]], ended: list[tuple[str, str]]
) -> None:
    """Events for the (account, population) overlaps that began and ended in this run."""
    if not began and not ended:
        return
    partner_name = session.scalar(select(Partner.name).where(Partner.id == partner_id)) or ""
    names, pipeline = _accounts(session, sorted({a for a, _ in began} | {a for a, _ in ended}))

    def event(account: str, population: str) -> dict[str, Any]:
        name, owner = names.get(account, ("", ""))
        amount = pipeline.get(account)
        return {
            "partner_id": partner_id,
            "account_crm_id": account,
            "payload": {
                "account_name": name or account,
                "account_owner": owner,
                "population": population,
                "amount": None if amount is None else str(amount),
                "partner_name": partner_name,
                "link": f"/mapping/partners/{partner_id}/overlaps",
            },
        }

    emit_many(session, EventKind.OVERLAP_BEGAN, [event(a, p) for a, p in began])
    emit_many(session, EventKind.OVERLAP_ENDED, [event(a, p) for a, p in ended])
