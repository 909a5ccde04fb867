"""Won and lost events for partner-attached opportunities that an opportunity import closes.

Found with one set-based query over the import's staged records against the stored opportunities,
before the upsert overwrites the old outcome: a stored opportunity that was open (or closed the
other way) and is now closed, with a partner touch on it that is not disputed. One event per
(opportunity, partner). A new opportunity that arrives already closed is history, not news: no event.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, and_, func, or_, select
from sqlalchemy.orm import Session

from ecoops.attribution.models import PartnerTouch
from ecoops.crm.models import Account, Opportunity
from ecoops.events import EventKind, emit_many
from ecoops.partners.models import Partner


def emit_outcome_events(session: Session, stage: Table) -> int:
    """Emit opportunity.won / opportunity.lost for the closings this import is about to write."""
    s, t = stage, Opportunity.__table__
    touched = (
        select(PartnerTouch.opportunity_crm_id, PartnerTouch.partner_id)
        .where(PartnerTouch.status != "disputed", PartnerTouch.opportunity_crm_id != "")
        .distinct()
        .subquery()
    )

    def kept(column: str) -> Any:  # a column the file does not map stays as stored
        return func.coalesce(func.nullif(s.c[column], ""), t.c[column])

    account = kept("account_crm_id")
    rows = session.execute(
        select(
            s.c.crm_id,
            s.c.is_won,
            kept("name"),
            account,
            kept("owner"),
            func.coalesce(s.c.amount, t.c.amount),
            touched.c.partner_id,
            Partner.name,
            Account.name,
            Account.owner,
        )
        .join(t, t.c.crm_id == s.c.crm_id)
        .join(touched, touched.c.opportunity_crm_id == s.c.crm_id)
        .join(Partner, Partner.id == touched.c.partner_id)
        .outerjoin(Account, Account.crm_id == account)
        .where(s.c.is_closed, or_(~t.c.is_closed, and_(t.c.is_closed, t.c.is_won != s.c.is_won)))
        .order_by(s.c.crm_id, touched.c.partner_id)
    ).all()
    won: list[dict[str, Any]] = []
    lost: list[dict[str, Any]] = []
    for (
        crm_id,
        is_won,
        name,
        account_id,
        owner,
        amount,
        partner_id,
        partner,
        account_name,
        account_owner,
    ) in rows:
        (won if is_won else lost).append(
            {
                "partner_id": partner_id,
                "account_crm_id": account_id or "",
                "opportunity_crm_id": crm_id,
                "payload": {
                    "opportunity_name": name or crm_id,
                    "opportunity_owner": owner or "",
                    "account_name": account_name or "",
                    "account_owner": account_owner or owner or "",
                    "amount": None if amount is None else str(amount),
                    "partner_name": partner,
                    "link": f"/dashboards/opportunities/{crm_id}",
                },
            }
        )
    return emit_many(session, EventKind.OPPORTUNITY_WON, won) + emit_many(
        session, EventKind.OPPORTUNITY_LOST, lost
    )
