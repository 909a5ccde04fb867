"""The five attribution models, worked by hand on one deal with ties and repeat touches."""

from datetime import date

import pytest

from ecoops.engines.metrics import Filters, Period, attribute_revenue, take_snapshot
from tests.engines.metrics.factories import Scenario, rows_by

CREATED, CLOSED = date(2024, 3, 1), date(2024, 5, 1)  # 61 days apart
QUARTER = Period(date(2024, 4, 1), date(2024, 6, 30))
AS_OF = date(2024, 6, 30)


def credit(s: Scenario, filters: Filters = Filters()) -> dict:
    result = attribute_revenue(take_snapshot(s.inputs(), AS_OF), QUARTER, filters)
    return {
        key: row["attributed_revenue"] for key, row in rows_by(result.figures, "model", "partner_id").items()
    }


def busy_deal() -> Scenario:
    """Partner 20 refers it; partner 10 co-sells, then transacts on close day, when 30 shares content."""
    s = Scenario()
    s.won("O1", CREATED, CLOSED, amount=1000.0)
    s.touch(20, "O1", "referral", date(2024, 3, 1))
    s.touch(10, "O1", "co_sell", date(2024, 4, 1))
    s.touch(30, "O1", "content", date(2024, 5, 1))
    s.touch(10, "O1", "marketplace", date(2024, 5, 1))
    s.touch(40, "O1", "co_sell", date(2024, 5, 2))  # after the close: not in T
    return s


def test_each_model_on_a_deal_with_a_tie_on_the_last_day_and_two_touches_of_one_partner():
    got = credit(busy_deal())
    # sourced: the source partner takes it all; first touch: the earliest touch.
    assert got[("sourced", 20)] == 1000 and ("sourced", 10) not in got
    assert got[("first_touch", 20)] == 1000
    # last touch: 10 and 30 tie on 1 May, the lower partner id wins.
    assert got[("last_touch", 10)] == 1000 and ("last_touch", 30) not in got
    # linear: three distinct partners.
    for partner in (10, 20, 30):
        assert got[("linear", partner)] == pytest.approx(1000 / 3)
    # time decay: 61, 30, 0 and 0 days before close, half-life 30.
    weights = {20: 2 ** (-61 / 30), 10: 2 ** (-30 / 30) + 1.0, 30: 1.0}
    for partner, weight in weights.items():
        assert got[("time_decay", partner)] == pytest.approx(1000 * weight / sum(weights.values()))
    # position, in order 20 (3/1), 10 (4/1), 10 (5/1), 30 (5/1): 0.4 first, 0.4 last, 0.1 to each middle one.
    assert got[("position", 20)] == pytest.approx(400)
    assert got[("position", 10)] == pytest.approx(200)
    assert got[("position", 30)] == pytest.approx(400)
    assert ("linear", 40) not in got


def test_one_touch_takes_everything_and_two_split_the_position_model():
    s = Scenario()
    s.won("O1", CREATED, CLOSED, amount=100.0)
    s.touch(10, "O1", "co_sell", date(2024, 4, 1))
    s.won("O2", CREATED, CLOSED, amount=100.0)
    s.touch(10, "O2", "co_sell", date(2024, 4, 1))
    s.touch(20, "O2", "co_sell", date(2024, 4, 2))
    got = credit(s)
    assert got[("position", 10)] == pytest.approx(100 + 50)
    assert got[("position", 20)] == pytest.approx(50)
    # Influence-only deals earn nothing under the sourced model.
    assert not any(model == "sourced" for model, _ in got)


def test_a_first_touch_tie_goes_to_the_lower_partner_id():
    s = Scenario()
    s.won("O1", CREATED, CLOSED, amount=100.0)
    s.touch(30, "O1", "co_sell", date(2024, 4, 1))
    s.touch(20, "O1", "content", date(2024, 4, 1))
    got = credit(s)
    assert got[("first_touch", 20)] == 100 and got[("last_touch", 20)] == 100


def test_shares_of_one_deal_add_up_to_one_under_every_model_but_sourced_on_influenced_deals():
    result = attribute_revenue(take_snapshot(busy_deal().inputs(), AS_OF), QUARTER)
    for model in ("sourced", "first_touch", "last_touch", "linear", "time_decay", "position"):
        shares = [r["share"] for r in result.records.to_pylist() if r["model"] == model]
        assert sum(shares) == pytest.approx(1.0), model


def test_no_won_deal_means_no_credit_rows_not_zeros():
    s = Scenario()
    s.lost("O1", CREATED, CLOSED)
    s.touch(10, "O1", "co_sell", date(2024, 4, 1))
    result = attribute_revenue(take_snapshot(s.inputs(), AS_OF), QUARTER)
    assert result.figures.num_rows == 0 and result.records.num_rows == 0


def test_a_partner_filter_shows_that_partners_credit_without_changing_the_shares():
    got = credit(busy_deal(), Filters(partner_ids=(30,)))
    assert set(got) == {("linear", 30), ("time_decay", 30), ("position", 30)}
    assert got[("linear", 30)] == pytest.approx(1000 / 3)
