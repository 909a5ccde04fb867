"""One opportunity opened up: its state and class, every touch with its evidence and verdict, its shares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow as pa

from ecoops.engines.metrics.attribution import attribution_shares
from ecoops.engines.metrics.settings import NO_FILTERS

if TYPE_CHECKING:
    from ecoops.engines.metrics.snapshot import Snapshot


@dataclass(frozen=True)
class OpportunityExplanation:
    """`opportunity`: its state and class on the date (no row if it did not exist yet); `touches`: each
    touch linked to it with the rule that decided it (`verdict`); `shares`: each partner's share under
    every model (rows only for a won opportunity with touches that count)."""

    opportunity: pa.Table
    touches: pa.Table
    shares: pa.Table


def explain_opportunity(snapshot: Snapshot, opportunity_crm_id: str) -> OpportunityExplanation:
    """Everything behind one opportunity's class and credit, as of the snapshot date."""
    snapshot.use(NO_FILTERS)
    return OpportunityExplanation(
        opportunity=snapshot.fetch(
            "FROM opportunity_as_of WHERE opportunity_crm_id = $id", id=opportunity_crm_id
        ),
        touches=snapshot.fetch(
            "FROM touch_verdict WHERE opportunity_crm_id = $id ORDER BY touched_on, partner_id, touch_id",
            id=opportunity_crm_id,
        ),
        shares=attribution_shares(snapshot, opportunity_crm_id=opportunity_crm_id).sort_by("partner_id"),
    )
