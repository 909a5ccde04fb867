"""Map the demo partners' account lists, as a partner manager would, so the demo opens with overlaps.

Kept apart from the seeding: it goes through account mapping's own services on the written files,
after the CRM history is committed, exactly like an upload on the mapping page.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from ecoops.actors import Actor
from ecoops.demo.partner_exports import PartnerExport
from ecoops.mapping import runs, uploads


def map_partner_lists(
    session: Session, actor: Actor, exports: list[PartnerExport], paths: list[Path], as_of: date
) -> int:
    """Upload and map each partner's list (its file in `paths`); how many matched pairs were stored."""
    matched = 0
    for export, path in zip(exports, paths, strict=True):
        uploads.upload_partner_list(session, actor, export.partner.id, path, export.filename)
        outcome = runs.run_mapping(session, actor, export.partner.id, today=as_of)
        matched += outcome.run.matches if outcome.run is not None else 0
    return matched
