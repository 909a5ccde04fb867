"""Filters by partner, program, tier, partner type, partner owner and opportunity owner."""

from datetime import date

import pytest

from ecoops.engines.metrics import (
    Filters,
    Period,
    partner_revenue,
    partner_vs_direct,
    partners_per_stage,
    take_snapshot,
)
from tests.engines.metrics.factories import Scenario, rows_by

AS_OF = date(2024, 6, 30)
Q2 = Period(date(2024, 4, 1), date(2024, 6, 30))
CREATED, CLOSED = date(2024, 4, 1), date(2024, 5, 1)


def book() -> Scenario:
    s = Scenario()
    s.partner(10, ("signed", date(2023, 1, 1)), partner_type="technology", owner_id=1, programs=((100, 1),))
    s.partner(20, ("active", date(2023, 1, 1)), partner_type="reseller", owner_id=2, programs=((100, 2),))
    s.partner(30, ("active", date(2023, 1, 1)), partner_type="reseller", owner_id=2, programs=((200, 3),))
    s.won("S10", CREATED, CLOSED, amount=100.0, owner="alice")
    s.touch(10, "S10", "referral", CREATED)
    s.won("S20", CREATED, CLOSED, amount=200.0, owner="bob")
    s.touch(20, "S20", "referral", CREATED)
    s.touch(30, "S20", "co_sell", CREATED)  # helps a deal 20 sourced: no class credit for 30
    s.won("I30", CREATED, CLOSED, amount=300.0, owner="alice")
    s.touch(30, "I30", "co_sell", CREATED)
    s.won("D", CREATED, CLOSED, amount=1000.0, owner="bob")
    return s


@pytest.mark.parametrize(
    ("filters", "sourced", "influenced"),
    [
        (Filters(), 300.0, 300.0),
        (Filters(partner_ids=(30,)), None, 300.0),
        (Filters(partner_types=("reseller",)), 200.0, 300.0),
        (Filters(program_ids=(100,), tier_ids=(2,)), 200.0, None),
        (Filters(program_ids=(100,), tier_ids=(3,)), None, None),
        (Filters(partner_owner_ids=(1,)), 100.0, None),
        (Filters(opportunity_owners=("alice",)), 100.0, 300.0),
    ],
)
def test_revenue_keeps_the_deals_credited_to_the_selected_partners(filters, sourced, influenced):
    figures = rows_by(
        partner_revenue(take_snapshot(book().inputs(), AS_OF), Q2, filters).figures, "classification"
    )
    assert (figures["sourced"]["revenue"], figures["influenced"]["revenue"]) == (sourced, influenced)


def test_direct_deals_stay_as_the_baseline_under_a_partner_filter_but_not_an_owner_filter():
    snapshot = take_snapshot(book().inputs(), AS_OF)

    def direct_wins(filters: Filters) -> int:
        return rows_by(partner_vs_direct(snapshot, Q2, filters).figures, "classification")["direct"]["won"]

    assert direct_wins(Filters(partner_ids=(30,))) == 1
    assert direct_wins(Filters(opportunity_owners=("alice",))) == 0


def test_partner_figures_follow_the_partner_filters_and_ignore_the_opportunity_owner():
    snapshot = take_snapshot(book().inputs(), AS_OF)

    def stages(filters: Filters) -> dict:
        figures = partners_per_stage(snapshot, filters).figures.to_pylist()
        return {r["stage"]: r["partners"] for r in figures if r["partners"]}

    assert stages(Filters(partner_types=("reseller",))) == {"active": 2}
    assert stages(Filters(opportunity_owners=("nobody",))) == {"signed": 1, "active": 2}
