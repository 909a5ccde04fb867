"""Company size segments, by the account's head count (the bands the demo's companies are sized in).

SMB: under 200 employees; Mid-Market: 200 to 1,999; Enterprise: 2,000 and more. An account with no
head count in the CRM is in no band: "size unknown".
"""

from __future__ import annotations

from enum import StrEnum


class Segment(StrEnum):
    SMB = "smb"
    MID_MARKET = "mid_market"
    ENTERPRISE = "enterprise"
    UNKNOWN = "unknown"


LABELS = {
    Segment.SMB: "SMB (under 200 employees)",
    Segment.MID_MARKET: "Mid-Market (200 to 1,999)",
    Segment.ENTERPRISE: "Enterprise (2,000 and more)",
    Segment.UNKNOWN: "Size unknown",
}
MID_MARKET_FROM, ENTERPRISE_FROM = 200, 2000


def segment_of(employees: int | None) -> Segment:
    if employees is None:
        return Segment.UNKNOWN
    if employees >= ENTERPRISE_FROM:
        return Segment.ENTERPRISE
    return Segment.MID_MARKET if employees >= MID_MARKET_FROM else Segment.SMB
