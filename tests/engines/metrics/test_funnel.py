"""The EQL funnel and give-and-get by hand: referrals both ways, overlaps held on the date."""

from datetime import date

from ecoops.engines.metrics import Period, eql_funnel, eql_pre_pipeline, give_and_get, take_snapshot
from tests.engines.metrics.factories import Scenario, rows_by

AS_OF = date(2024, 6, 30)
Q2 = Period(date(2024, 4, 1), date(2024, 6, 30))


def referrals() -> Scenario:
    s = Scenario()
    s.won("O1", date(2024, 4, 5), date(2024, 5, 10), amount=1000.0)
    s.opportunity("O2", date(2024, 6, 2), amount=400.0)
    s.opportunity("O3", date(2024, 7, 5), amount=900.0)  # created after the date
    s.referral(10, "in", date(2024, 4, 2), 800.0, "O1")
    s.referral(10, "in", date(2024, 4, 3), 300.0, "O1")  # a second EQL that became the same deal
    s.referral(20, "out", date(2024, 5, 1), None)
    s.referral(20, "in", date(2024, 6, 1), 200.0, "O2")
    s.referral(20, "in", date(2024, 6, 15), 100.0, "O3")
    s.referral(10, "in", date(2024, 3, 31), 5000.0, "O2")  # before the period
    return s


def test_the_funnel_follows_the_eqls_of_the_period_to_their_opportunities():
    result = eql_funnel(take_snapshot(referrals().inputs(), AS_OF), Q2)
    assert result.figures.to_pylist()[0] == {
        "eqls": 5,
        "eql_value": 1400.0,
        "sqls": 3,
        "sql_opportunities": 2,
        "sql_amount": 1400.0,  # O1 once, O2
        "eql_to_sql_conversion": 0.6,
        "won_opportunities": 1,
        "won_amount": 1000.0,
    }
    assert result.records.num_rows == 5


def test_a_period_without_eqls_shows_no_data():
    result = eql_funnel(
        take_snapshot(referrals().inputs(), AS_OF), Period(date(2023, 1, 1), date(2023, 3, 31))
    )
    figures = result.figures.to_pylist()[0]
    assert (
        figures["eqls"],
        figures["eql_value"],
        figures["eql_to_sql_conversion"],
        figures["won_amount"],
    ) == (
        0,
        None,
        None,
        None,
    )


def test_give_and_get_weighs_referrals_each_way_and_open_deals_shared():
    s = referrals()
    s.overlap("acct-O2", 10, date(2024, 1, 1), our_population="open_opportunities")
    s.overlap("acct-O1", 20, date(2024, 1, 1), our_population="open_opportunities")  # O1 is won, not open
    s.overlap("acct-O2", 20, date(2024, 1, 1), date(2024, 6, 1), our_population="open_opportunities")  # ended
    figures = rows_by(give_and_get(take_snapshot(s.inputs(), AS_OF), Q2).figures, "partner_id")
    assert figures[10] == {
        "partner_id": 10,
        "referrals_sent": 0,
        "value_sent": None,
        "referrals_received": 2,
        "value_received": 1100.0,
        "shared_open_opportunities": 1,
    }
    assert figures[20] == {
        "partner_id": 20,
        "referrals_sent": 1,
        "value_sent": None,
        "referrals_received": 2,
        "value_received": 300.0,
        "shared_open_opportunities": 0,
    }


def pre_pipeline() -> Scenario:
    s = Scenario()
    s.opportunity("O2", date(2024, 6, 2), amount=400.0)
    s.won("W1", date(2024, 1, 1), date(2024, 5, 10), amount=1000.0)
    s.won("W2", date(2023, 5, 1), date(2023, 8, 1), amount=3000.0)
    s.won("W0", date(2023, 1, 1), date(2023, 6, 30), amount=99_999.0)  # 12 months and a day before
    s.overlap("acct-O2", 10, date(2024, 1, 1), our_population="open_opportunities")
    s.overlap("acct-O2", 20, date(2024, 2, 1), our_population="open_opportunities")  # same account
    s.overlap("acct-X", 20, date(2024, 2, 1))  # a prospect without an open deal
    s.overlap("acct-Y", 20, date(2024, 2, 1), partner_population="prospects")  # not their customer
    s.overlap("acct-Z", 10, date(2024, 2, 1), date(2024, 6, 30))  # ended on the date
    s.overlap("acct-W", 10, date(2024, 2, 1), our_population="customers")
    return s


def test_the_pre_pipeline_counts_each_account_once_and_values_prospects_at_the_average_deal():
    result = eql_pre_pipeline(take_snapshot(pre_pipeline().inputs(), AS_OF))
    assert result.figures.to_pylist()[0] == {"accounts": 2, "valued_at_average": 1, "value": 400.0 + 2000.0}
    assert rows_by(result.records, "account_crm_id")["acct-O2"]["partner_ids"] == [10, 20]


def test_without_a_won_deal_in_12_months_a_prospect_has_no_value():
    s = pre_pipeline()
    s.opportunities = [o for o in s.opportunities if not o["is_won"]]
    figures = eql_pre_pipeline(take_snapshot(s.inputs(), AS_OF)).figures.to_pylist()[0]
    assert (figures["accounts"], figures["value"]) == (2, None)
