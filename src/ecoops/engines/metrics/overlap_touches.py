"""The `overlap` touches METRICS.md derives from account mapping, for the attribution domain to store.

An overlap becomes a touch when the account was in one of the partner's customer populations while
the opportunity was open; the touch is dated the first day both held.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

if TYPE_CHECKING:
    from ecoops.engines.metrics.snapshot import Snapshot

# METRICS.md "overlap": the first day both held is the later of the overlap's start and the
# opportunity's creation; it must fall while the opportunity was open (up to its close date, or the
# as-of date) and before the overlap ended (an overlap holds up to, not including, ended_on).
OVERLAP_TOUCHES = """
SELECT
    v.partner_id,
    o.opportunity_crm_id,
    o.account_crm_id,
    'overlap' AS kind,
    greatest(v.began_on, o.created_on) AS touched_on,
    'overlap' AS evidence_type,
    CAST(v.overlap_id AS VARCHAR) AS evidence_ref
FROM input_overlaps v
JOIN opportunity_state o ON o.account_crm_id = v.our_account_crm_id
WHERE is_partner_customer_population(v.partner_population)
  AND greatest(v.began_on, o.created_on) <= coalesce(o.close_date, as_of())
  AND (v.ended_on IS NULL OR v.ended_on > greatest(v.began_on, o.created_on))
ORDER BY o.opportunity_crm_id, v.partner_id, touched_on
"""


def overlap_touches(snapshot: Snapshot) -> pa.Table:
    """One touch per overlap and opportunity of its account that it held while open, as of the date.

    Rows have the touch columns but no `touch_id` or `status`: the attribution domain stores them.
    """
    return snapshot.fetch(OVERLAP_TOUCHES)
