"""A fit workspace worked by hand (tests/fit).

Criteria: partner type 20 (technology), customer overlap 30 (full at 4), pipeline overlap 20 (full at
2), region 10 (US), size 10 (50-500), integration 5, referral conversion 5 (full at 0.5): 100 points.

- Northwind, a technology prospect in the US, 500 employees (the range's top: inside), integration
  "building"; its list (tests/mapping PARTNER_ROWS[:5]) overlaps our customers Acme and Umbrella and our
  open pipeline Globex and Umbrella: 20 + 30x2/4 + 20x2/2 + 10 + 10 + 5x0.5 + 0 = 77.5.
- Contoso, a reseller prospect in DE, nothing else known: 0.
- Beta, an active referral partner in the US: 2 referrals sent to us, 1 became an opportunity (rate
  0.5, full points), an outbound one not counted; no list: 10 + 5 = 15.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from ecoops.actors import SYSTEM
from ecoops.fit import service
from ecoops.mapping import runs, uploads
from ecoops.partners.models import Partner
from ecoops.referrals.models import Referral
from tests.factories import make_partner
from tests.mapping.test_mapping_runs import PARTNER_ROWS, our_accounts, write

CRITERIA = {
    "partner_type": ("20", "technology"),
    "customer_overlap": ("30", "4"),
    "pipeline_overlap": ("20", "2"),
    "region": ("10", "us"),
    "size": ("10", "50-500"),
    "integration": ("5", ""),
    "referral_conversion": ("5", "0.5"),
}


@dataclass(frozen=True)
class FitWorld:
    northwind: Partner
    contoso: Partner
    beta: Partner


def _referral(session: Session, partner: Partner, direction: str, opportunity: str = "") -> None:
    session.add(
        Referral(
            direction=direction,
            kind="eql",
            partner_id=partner.id,
            company="Lead",
            status="approved",
            submitted_via="internal",
            submitted_at=datetime(2025, 3, 1, tzinfo=UTC),
            opportunity_crm_id=opportunity,
        )
    )


def seed(session: Session, tmp_path: Path) -> FitWorld:
    our_accounts(session)
    service.set_criteria(session, SYSTEM, CRITERIA)
    northwind = make_partner(session, name="Northwind", stage="prospect", country="US")
    uploads.upload_partner_list(session, SYSTEM, northwind.id, write(tmp_path, PARTNER_ROWS[:5]), "nw.csv")
    runs.run_mapping(session, SYSTEM, northwind.id)
    service.set_profile(session, SYSTEM, northwind.id, employees="500", integration_status="building")
    contoso = make_partner(session, name="Contoso", stage="prospect", partner_type="reseller", country="DE")
    beta = make_partner(session, name="Beta", stage="active", partner_type="referral", country="US")
    _referral(session, beta, "inbound", "O2")
    _referral(session, beta, "inbound")
    _referral(session, beta, "outbound", "O4")
    session.flush()
    return FitWorld(northwind, contoso, beta)
