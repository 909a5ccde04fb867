"""Partner life cycle by hand: stages on a date, time to recruit, tenure and retention with a re-signing."""

from datetime import date

import pytest

from ecoops.engines.metrics import (
    Period,
    first_revenue,
    partners_needed,
    partners_per_stage,
    take_snapshot,
    tenure_and_retention,
    time_to_recruit,
)
from tests.engines.metrics.factories import Scenario, rows_by

AS_OF = date(2024, 6, 30)
H1_2024 = Period(date(2024, 1, 1), date(2024, 6, 30))
YEAR_2023 = Period(date(2023, 1, 1), date(2023, 12, 31))


def program() -> Scenario:
    s = Scenario()
    # 1 is recruited (59 days), churns, is recruited again (75 days) and re-signs.
    s.partner(
        1,
        ("prospect", date(2023, 1, 1)),
        ("recruiting", date(2023, 2, 1)),
        ("signed", date(2023, 4, 1)),
        ("onboarding", date(2023, 5, 1)),
        ("active", date(2023, 6, 1)),
        ("churned", date(2023, 9, 1)),
        ("recruiting", date(2023, 11, 1)),
        ("signed", date(2024, 1, 15)),
    )
    s.partner(2, ("recruiting", date(2023, 6, 1)), ("signed", date(2024, 2, 1)), ("active", date(2024, 3, 1)))
    # 3 was imported already signed: its recruiting time is unknown.
    s.partner(3, ("signed", date(2023, 1, 10)), ("producing", date(2023, 6, 1)))
    s.partner(4, ("prospect", date(2024, 1, 1)), ("recruiting", date(2024, 3, 1)))
    s.partner(5, ("recruiting", date(2024, 5, 1)), ("signed", date(2024, 7, 15)))  # signs after the date
    return s


def test_partners_per_stage_on_any_date():
    def counts(as_of: date) -> dict:
        figures = partners_per_stage(take_snapshot(program().inputs(), as_of)).figures
        return {r["stage"]: r["partners"] for r in figures.to_pylist() if r["partners"]}

    assert counts(AS_OF) == {"recruiting": 2, "signed": 1, "active": 1, "producing": 1}
    assert counts(date(2023, 10, 1)) == {"churned": 1, "recruiting": 1, "producing": 1}


def test_time_to_recruit_counts_each_signing_from_the_recruiting_that_led_to_it():
    snapshot = take_snapshot(program().inputs(), AS_OF)
    h1 = time_to_recruit(snapshot, H1_2024).figures.to_pylist()[0]
    # The re-signing of 1 (75 days) and 2 (245 days).
    assert h1 == {"signings": 2, "measured": 2, "mean_days": 160.0, "median_days": 160.0}
    # 2023: the first signing of 1 (59 days) and 3, never seen recruiting: counted, not measured.
    assert time_to_recruit(snapshot, YEAR_2023).figures.to_pylist()[0] == {
        "signings": 2,
        "measured": 1,
        "mean_days": 59.0,
        "median_days": 59.0,
    }


def test_tenure_adds_the_spells_and_retention_follows_the_first_signing():
    result = tenure_and_retention(take_snapshot(program().inputs(), AS_OF))
    tenures = {r["partner_id"]: r["tenure_days"] for r in result.records.to_pylist()}
    # 1: 153 days before churning + 167 since re-signing; 2: 150; 3: 537.
    assert tenures == {1: 320, 2: 150, 3: 537}
    # 1 and 3 signed at least 12 months ago; 1 churned within its first year, re-signed or not.
    assert result.figures.to_pylist()[0] == {
        "signed_partners": 3,
        "mean_tenure_days": pytest.approx((320 + 150 + 537) / 3),
        "retention_cohort": 2,
        "retained": 1,
        "retention_rate": 0.5,
    }


def test_no_signed_partner_means_no_tenure_not_zero():
    figures = tenure_and_retention(take_snapshot(program().inputs(), date(2022, 12, 31))).figures.to_pylist()[
        0
    ]
    assert figures == {
        "signed_partners": 0,
        "mean_tenure_days": None,
        "retention_cohort": 0,
        "retained": 0,
        "retention_rate": None,
    }


def with_deals() -> Scenario:
    s = program()
    s.partner(6, ("signed", date(2024, 3, 1)))  # signed, nothing won yet
    s.partner(9, ("signed", date(2020, 1, 1)))
    s.won("EARLY", date(2024, 1, 2), date(2024, 1, 20), amount=10_000.0)  # 2's, before it signed
    s.touch(2, "EARLY", "referral", date(2024, 1, 2))
    s.won("FIRST", date(2024, 3, 1), date(2024, 4, 15), amount=50_000.0)
    s.touch(2, "FIRST", "deal_registration", date(2024, 3, 1))
    s.won("NINES", date(2024, 2, 1), date(2024, 3, 1), amount=70_000.0)  # 9 sourced it; 2 only helped
    s.touch(9, "NINES", "referral", date(2024, 2, 1))
    s.touch(2, "NINES", "co_sell", date(2024, 2, 10))
    return s


def test_time_to_first_revenue_and_activation_over_the_partners_first_signed_in_the_period():
    result = first_revenue(take_snapshot(with_deals().inputs(), AS_OF), H1_2024)
    records = rows_by(result.records, "partner_id")
    # 1 re-signed in the period but was first signed in 2023: not in this cohort.
    assert set(records) == {2, 6}
    assert (records[2]["first_won_opportunity_crm_id"], records[2]["days_to_first_revenue"]) == ("FIRST", 74)
    assert records[6]["days_to_first_revenue"] is None  # not yet, never zero
    assert result.figures.to_pylist()[0] == {
        "signed_partners": 2,
        "activated_partners": 1,
        "not_yet": 1,
        "activation_rate": 0.5,
        "mean_days_to_first_revenue": 74.0,
        "median_days_to_first_revenue": 74.0,
    }


def test_partners_needed_divides_the_target_by_the_programs_productivity():
    s = with_deals()
    for partner_id in (1, 2, 3):
        s.memberships.append({"partner_id": partner_id, "program_id": 100, "tier_id": 1})
    s.memberships.append({"partner_id": 4, "program_id": 200, "tier_id": 2})
    # Churned on the first day of the trailing year: never signed in it. A day later: signed for one day.
    s.partner(7, ("signed", date(2023, 1, 1)), ("churned", date(2023, 7, 1)), programs=((100, 1),))
    s.partner(8, ("signed", date(2023, 1, 1)), ("churned", date(2023, 7, 2)), programs=((100, 1),))
    result = partners_needed(take_snapshot(s.inputs(), AS_OF), 1_000_000)
    figures = rows_by(result.figures, "program_id")
    # Program 100: EARLY + FIRST are credited to 2 (NINES to 9) = 60 000 over 1, 2, 3 and 8.
    assert figures[100] == {
        "program_id": 100,
        "active_partners": 4,
        "won_opportunities": 2,
        "revenue": 60_000.0,
        "productivity": 15_000.0,
        "partners_needed": 67,
    }
    # Program 200 has no signed partner: no productivity, no answer.
    assert (
        figures[200]["active_partners"],
        figures[200]["productivity"],
        figures[200]["partners_needed"],
    ) == (
        0,
        None,
        None,
    )
