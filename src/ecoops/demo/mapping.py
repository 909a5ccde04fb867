"""Map the demo partners' account lists, as a partner manager would, so the demo opens with overlaps.

Kept apart from the seeding: it goes through account mapping's own services on the written files,
after the CRM history is committed, exactly like an upload on the mapping page.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.accounts.models import PartnerUser
from ecoops.actors import Actor
from ecoops.demo.partner_exports import PartnerExport
from ecoops.mapping import runs, uploads
from ecoops.mapping.models import SharingLevel
from ecoops.mapping.sharing import Rule, set_rules

# What we show a partner (Mapping → partner → Sharing): customers both sides have, with their name and
# country; everything else only counted. Set for the partners whose people sign in to the portal, so
# their overlaps page and QBR pack show what is shared; the others keep the default (nothing shared).
SHARING_RULES = {
    "customers": Rule(SharingLevel.OVERLAPPING, ("name", "country")),
    "open_opportunities": Rule(SharingLevel.COUNTS),
    "prospects": Rule(SharingLevel.COUNTS),
}


def map_partner_lists(
    session: Session, actor: Actor, exports: list[PartnerExport], paths: list[Path], as_of: date
) -> int:
    """Upload and map each partner's list (its file in `paths`), and share overlaps with the portal
    partners (SHARING_RULES); how many matched pairs were stored."""
    matched = 0
    for export, path in zip(exports, paths, strict=True):
        uploads.upload_partner_list(session, actor, export.partner.id, path, export.filename)
        outcome = runs.run_mapping(session, actor, export.partner.id, today=as_of)
        matched += outcome.run.matches if outcome.run is not None else 0
    portal = select(PartnerUser.partner_id).distinct().order_by(PartnerUser.partner_id)
    for partner_id in session.scalars(portal):
        set_rules(session, actor, partner_id, SHARING_RULES)
    return matched
