"""The forecast from overlaps, with its Wilson interval worked by hand."""

from datetime import date

import pytest

from ecoops.engines.metrics import forecast_from_overlaps, take_snapshot
from tests.engines.metrics.factories import Scenario

AS_OF = date(2024, 6, 30)


def overlaps() -> Scenario:
    s = Scenario()
    for account in ("A1", "A2", "A3", "A4"):
        s.overlap(account, 10, date(2024, 4, 1))
    s.overlap("A5", 10, date(2023, 9, 1), date(2024, 1, 1))  # held earlier in the trailing year
    s.overlap("A6", 10, date(2022, 1, 1), date(2023, 6, 1))  # ended before it
    s.won("W5", date(2023, 10, 1), date(2023, 12, 1), account_crm_id="A5", amount=1000.0)
    s.touch(10, "W5", "referral", date(2023, 10, 1))
    s.won("W1", date(2024, 1, 1), date(2024, 3, 1), account_crm_id="A1", amount=3000.0)  # before the overlap
    s.touch(10, "W1", "referral", date(2024, 1, 1))
    s.won("W2", date(2024, 4, 2), date(2024, 5, 1), account_crm_id="A2", amount=2000.0)  # another partner's
    s.touch(20, "W2", "referral", date(2024, 4, 2))
    s.won("D", date(2024, 4, 2), date(2024, 5, 1), amount=50_000.0)  # direct: not in the deal size
    return s


def test_forecast_is_overlaps_times_conversion_times_deal_size_with_a_wilson_interval():
    result = forecast_from_overlaps(take_snapshot(overlaps().inputs(), AS_OF))
    (row,) = result.figures.to_pylist()
    # 5 accounts held in the year, 1 converted (A5); 4 held today; partner-attached deals 1000, 3000, 2000.
    assert (row["label"], row["our_population"], row["partner_id"], row["partner_population"]) == (
        "forecast",
        "prospects",
        10,
        "customers",
    )
    assert (row["overlap_accounts"], row["accounts_in_year"], row["converted_accounts"]) == (4, 5, 1)
    assert (row["conversion_rate"], row["average_deal_size"], row["forecast"]) == (0.2, 2000.0, 1600.0)
    # Wilson at 80 % (z = 1.2816), p = 0.2, n = 5: centre 0.27418, half-width 0.21228.
    assert row["conversion_low"] == pytest.approx(0.061896, abs=1e-6)
    assert row["conversion_high"] == pytest.approx(0.486459, abs=1e-6)
    assert row["forecast_low"] == pytest.approx(4 * 0.061896 * 2000, abs=1e-2)
    assert row["forecast_high"] == pytest.approx(4 * 0.486459 * 2000, abs=1e-2)
    assert result.records.num_rows == 5


def test_no_partner_attached_win_in_the_year_leaves_the_forecast_without_a_value():
    s = overlaps()
    s.touches = []
    (row,) = forecast_from_overlaps(take_snapshot(s.inputs(), AS_OF)).figures.to_pylist()
    assert (row["conversion_rate"], row["average_deal_size"], row["forecast"], row["forecast_high"]) == (
        0.0,
        None,
        None,
        None,
    )
