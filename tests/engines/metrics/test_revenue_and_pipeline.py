"""Sourced and influenced revenue of a period, and pipeline by class on any date."""

from datetime import date

from ecoops.engines.metrics import Period, partner_revenue, pipeline_by_class, take_snapshot
from tests.engines.metrics.factories import Scenario, reopened_deal, rows_by

Q2 = Period(date(2024, 4, 1), date(2024, 6, 30))
AS_OF = date(2024, 6, 30)
JAN = date(2024, 1, 10)


def book() -> Scenario:
    s = Scenario()
    s.won("S1", JAN, date(2024, 4, 10), amount=100.0)
    s.won("S2", JAN, date(2024, 3, 31), amount=999.0)  # closed the day before the period
    s.lost("S3", JAN, date(2024, 5, 1), amount=5.0)
    s.opportunity("S4", JAN, amount=300.0)
    s.won("I1", JAN, date(2024, 6, 30), amount=40.0)  # closed on the period's last day
    s.opportunity("I2", JAN, amount=None)
    s.won("D1", JAN, date(2024, 5, 1), amount=7.0)
    s.opportunity("D2", JAN, amount=50.0)
    for crm_id in ("S1", "S2", "S3", "S4"):
        s.touch(10, crm_id, "referral", JAN)
    for crm_id in ("I1", "I2"):
        s.touch(20, crm_id, "co_sell", date(2024, 2, 1))
    return s


def test_revenue_sums_the_won_deals_of_each_partner_class_closed_in_the_period():
    result = partner_revenue(take_snapshot(book().inputs(), AS_OF), Q2)
    figures = rows_by(result.figures, "classification")
    assert (figures["sourced"]["won_opportunities"], figures["sourced"]["revenue"]) == (1, 100.0)
    assert (figures["influenced"]["won_opportunities"], figures["influenced"]["revenue"]) == (1, 40.0)
    assert sorted(result.records.column("opportunity_crm_id").to_pylist()) == ["I1", "S1"]


def test_pipeline_sums_what_is_open_on_the_date_and_an_unknown_amount_is_no_data():
    figures = rows_by(pipeline_by_class(take_snapshot(book().inputs(), AS_OF)).figures, "classification")
    assert (figures["sourced"]["open_opportunities"], figures["sourced"]["pipeline"]) == (1, 300.0)
    assert (figures["influenced"]["open_opportunities"], figures["influenced"]["pipeline"]) == (1, None)
    assert (figures["direct"]["open_opportunities"], figures["direct"]["pipeline"]) == (1, 50.0)


def test_pipeline_on_a_past_date_counts_deals_closed_later_and_reopened_ones():
    s = book()
    figures = rows_by(
        pipeline_by_class(take_snapshot(s.inputs(), date(2024, 4, 9))).figures, "classification"
    )
    # S1, S3 and S4 were open on 9 April (S2 had closed); S4 + S1 + S3 amounts.
    assert (figures["sourced"]["open_opportunities"], figures["sourced"]["pipeline"]) == (3, 405.0)
    lost_then_reopened = reopened_deal()
    assert (
        rows_by(
            pipeline_by_class(take_snapshot(lost_then_reopened.inputs(), date(2024, 3, 5))).figures,
            "classification",
        )["direct"]["open_opportunities"]
        == 0
    )
    assert (
        rows_by(
            pipeline_by_class(take_snapshot(lost_then_reopened.inputs(), date(2024, 3, 10))).figures,
            "classification",
        )["direct"]["pipeline"]
        == 1000.0
    )


def test_a_period_without_partner_wins_shows_no_data_not_zero():
    result = partner_revenue(
        take_snapshot(book().inputs(), AS_OF), Period(date(2023, 1, 1), date(2023, 12, 31))
    )
    assert [(r["won_opportunities"], r["revenue"]) for r in result.figures.to_pylist()] == [
        (0, None),
        (0, None),
    ]
