"""Overlap touches are dated the first day the account overlapped while the opportunity was open."""

from datetime import date

from ecoops.engines.metrics import overlap_touches, take_snapshot
from tests.engines.metrics.factories import Scenario

CREATED, CLOSED = date(2024, 3, 1), date(2024, 5, 1)


def test_an_overlap_touch_is_dated_the_first_day_both_held():
    s = Scenario()
    s.won("O1", CREATED, CLOSED, account_crm_id="A")
    s.overlap("A", 10, date(2023, 1, 1))  # held before the deal: dated its creation
    s.overlap("A", 20, date(2024, 4, 10))  # began while open: dated its start
    s.overlap("A", 30, CLOSED)  # began on the close date: still counts
    s.overlap("A", 40, date(2024, 5, 2))  # began after the close
    s.overlap("A", 50, date(2023, 1, 1), date(2024, 3, 1))  # ended the day the deal was created
    s.overlap("A", 60, date(2024, 4, 1), partner_population="prospects")  # not the partner's customers
    s.opportunity("O2", date(2024, 6, 1), account_crm_id="A")  # created after the as-of date
    touches = overlap_touches(take_snapshot(s.inputs(), date(2024, 5, 31)))
    assert [(t["partner_id"], t["opportunity_crm_id"], t["touched_on"]) for t in touches.to_pylist()] == [
        (10, "O1", CREATED),
        (20, "O1", date(2024, 4, 10)),
        (30, "O1", CLOSED),
    ]
    assert touches.to_pylist()[0]["kind"] == "overlap"
    assert touches.to_pylist()[0]["evidence_type"] == "overlap"
