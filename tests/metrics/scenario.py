"""A small stored workspace whose figures are worked out by hand in the tests (Q1 2025, as of 31 March 2025).

- Deal 1 (1,000, won 20 Feb): Beta's confirmed referral two days after creation sources it; its CRM
  partner-source field names Acme's CRM id, which proposes (only) a crm_source touch for Acme.
- Deal 2 (2,000, won 1 Mar): Acme co-sold it (confirmed); its partner-source field names Acme by name,
  in other case and spacing (proposed). History without flags: the feed reads them from the stage names.
- Deal 3: no created date — cannot be placed in time, left out.
- Deal 4 (500, open): direct.
- Deal 5 (3,000, won 10 Mar): Acme's stored, confirmed crm_source touch sources it (no second one derived).
- Referrals: Acme's inbound one was rejected (no EQL); our outbound one to Beta (700) was accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from ecoops.attribution.models import PartnerTouch
from ecoops.crm.models import Opportunity, OpportunityStageChange
from ecoops.partners.models import Partner
from ecoops.referrals.models import Referral
from tests.factories import make_opportunity, make_partner

AS_OF = date(2025, 3, 31)
Q1 = (date(2025, 1, 1), date(2025, 3, 31))


@dataclass
class Scenario:
    acme: Partner
    beta: Partner
    deals: dict[int, Opportunity]


def _touch(session: Session, partner: Partner, deal: Opportunity, kind: str, on: date, **fields: str) -> None:
    session.add(
        PartnerTouch(
            partner_id=partner.id,
            opportunity_crm_id=deal.crm_id,
            account_crm_id=deal.account_crm_id,
            kind=kind,
            touched_on=on,
            status=fields.get("status", "confirmed"),
            evidence_type=fields.get("evidence_type", "user"),
            evidence_ref=fields.get("evidence_ref", "1"),
            recorded_by=fields.get("recorded_by", ""),
        )
    )


def _referral(session: Session, partner: Partner, direction: str, status: str, value: str) -> None:
    session.add(
        Referral(
            direction=direction,
            kind="eql",
            partner_id=partner.id,
            company=f"{direction} co",
            status=status,
            submitted_via="internal",
            submitted_at=datetime(2025, 2, 3, 12, tzinfo=UTC),
            estimated_value=Decimal(value),
        )
    )


def seed(session: Session) -> Scenario:
    acme = make_partner(session, name="Acme Partners", crm_id="P-ACME", stage="active")
    beta = make_partner(session, name="Beta Co", partner_type="reseller", stage="active")
    won = {"stage": "Closed Won", "is_closed": True, "is_won": True}
    deals = {
        1: make_opportunity(
            session,
            amount=Decimal(1000),
            created_on=date(2025, 1, 10),
            close_date=date(2025, 2, 20),
            partner_source="P-ACME",
            account_crm_id="A1",
            **won,
        ),
        2: make_opportunity(
            session,
            amount=Decimal(2000),
            created_on=date(2025, 1, 5),
            close_date=date(2025, 3, 1),
            partner_source="  acme PARTNERS ",
            account_crm_id="A2",
            **won,
        ),
        3: make_opportunity(session, amount=Decimal(900), created_on=None, account_crm_id="A3"),
        4: make_opportunity(
            session,
            amount=Decimal(500),
            created_on=date(2025, 2, 1),
            close_date=date(2025, 5, 1),
            account_crm_id="A4",
        ),
        5: make_opportunity(
            session,
            amount=Decimal(3000),
            created_on=date(2025, 2, 15),
            close_date=date(2025, 3, 10),
            partner_source="P-ACME",
            account_crm_id="A5",
            **won,
        ),
    }
    session.add_all(
        [
            OpportunityStageChange(
                opportunity_crm_id=deals[2].crm_id, stage="Prospecting", changed_on=date(2025, 1, 5)
            ),
            OpportunityStageChange(
                opportunity_crm_id=deals[2].crm_id, stage="Closed Won", changed_on=date(2025, 3, 1)
            ),
        ]
    )
    _touch(
        session,
        beta,
        deals[1],
        "referral",
        date(2025, 1, 12),
        evidence_type="referral",
        evidence_ref="9",
        recorded_by="referral desk",
    )
    _touch(session, acme, deals[2], "co_sell", date(2025, 2, 1))
    _touch(session, acme, deals[5], "crm_source", date(2025, 2, 15), evidence_type="crm_field")
    _referral(session, acme, "inbound", "rejected", "400")
    _referral(session, beta, "outbound", "accepted", "700")
    session.flush()
    return Scenario(acme, beta, deals)
