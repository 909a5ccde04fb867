"""Partner-versus-direct overlays, worked by hand: win rate, deal size, cycle, velocity, days in stage."""

from datetime import date

import pytest

from ecoops.engines.metrics import Period, days_in_stage, partner_vs_direct, take_snapshot
from tests.engines.metrics.factories import Scenario, rows_by

Q2 = Period(date(2024, 4, 1), date(2024, 6, 30))
AS_OF = date(2024, 6, 30)


def sourced(s: Scenario, crm_id: str) -> None:
    s.touch(10, crm_id, "referral", date(2023, 12, 1))


def test_overlays_per_class_over_the_deals_closed_in_the_period():
    s = Scenario()
    s.won("A", date(2024, 3, 1), date(2024, 4, 10), amount=100.0)  # 40 days
    s.won("B", date(2024, 4, 1), date(2024, 5, 1), amount=300.0)  # 30 days
    s.won("C", date(2024, 5, 1), date(2024, 5, 12), amount=200.0)  # 11 days
    s.lost("L", date(2024, 1, 1), date(2024, 5, 15))
    s.won("OLD", date(2023, 1, 1), date(2024, 3, 31), amount=10_000.0)  # closed before the period
    s.opportunity("OPEN1", date(2024, 5, 1))
    s.opportunity("OPEN2", date(2024, 6, 1))
    for crm_id in ("A", "B", "C", "L", "OLD", "OPEN1", "OPEN2"):
        sourced(s, crm_id)
    s.lost("I", date(2024, 4, 1), date(2024, 4, 20))
    s.touch(20, "I", "co_sell", date(2024, 4, 2))
    figures = rows_by(partner_vs_direct(take_snapshot(s.inputs(), AS_OF), Q2).figures, "classification")

    partner = figures["sourced"]
    assert (partner["closed"], partner["won"], partner["open_opportunities"]) == (4, 3, 2)
    assert partner["win_rate"] == 0.75
    assert partner["average_deal_size"] == 200.0
    assert (partner["mean_days_to_close"], partner["median_days_to_close"]) == (27.0, 30.0)
    assert partner["pipeline_velocity"] == pytest.approx(2 * 0.75 * 200 / 27)
    # Zero won deals: the rate is a true 0, the rest is "no data".
    influenced = figures["influenced"]
    assert (influenced["win_rate"], influenced["average_deal_size"], influenced["pipeline_velocity"]) == (
        0.0,
        None,
        None,
    )
    direct = figures["direct"]
    assert (direct["closed"], direct["win_rate"], direct["median_days_to_close"]) == (0, None, None)


def test_days_in_stage_averages_the_visits_that_ended_in_the_period():
    s = Scenario()
    s.opportunity("S1", date(2024, 3, 1))
    s.stage("S1", "Discovery", date(2024, 3, 1))
    s.stage("S1", "Proposal", date(2024, 4, 11))  # Discovery: 41 days
    s.stage("S1", "Discovery", date(2024, 4, 21))  # Proposal: 10 days; this visit has not ended
    s.stage("S1", "Closed Won", date(2024, 7, 5), closed=True, won=True)  # after the as-of date
    s.opportunity("S2", date(2024, 4, 1))
    s.stage("S2", "Discovery", date(2024, 4, 1))
    s.stage("S2", "Closed Won", date(2024, 4, 20), closed=True, won=True)  # Discovery: 19 days
    sourced(s, "S1")
    sourced(s, "S2")
    s.opportunity("D1", date(2024, 1, 1))
    s.stage("D1", "Discovery", date(2024, 1, 1))
    s.stage("D1", "Proposal", date(2024, 3, 31))  # ended before the period
    s.stage("D1", "Closed Lost", date(2024, 4, 30), closed=True)  # Proposal: 30 days
    result = days_in_stage(take_snapshot(s.inputs(), AS_OF), Q2)
    figures = {
        key: (r["visits"], r["mean_days"])
        for key, r in rows_by(result.figures, "classification", "stage").items()
    }
    assert figures == {
        ("sourced", "Discovery"): (2, 30.0),
        ("sourced", "Proposal"): (1, 10.0),
        ("influenced", "Discovery"): (0, None),
        ("influenced", "Proposal"): (0, None),
        ("direct", "Discovery"): (0, None),
        ("direct", "Proposal"): (1, 30.0),
    }
    assert result.records.num_rows == 4
