"""An opportunity's state on a past date comes from its stage history, reopenings included."""

from datetime import date

from ecoops.engines.metrics import classify_opportunities, take_snapshot
from tests.engines.metrics.factories import Scenario, reopened_deal, rows_by


def state_on(scenario: Scenario, as_of: date) -> dict:
    return rows_by(
        classify_opportunities(take_snapshot(scenario.inputs(), as_of)).records, "opportunity_crm_id"
    )


def test_a_reopened_opportunity_is_open_from_the_reopening_and_closes_on_its_latest_close():
    s = reopened_deal()
    lost = state_on(s, date(2024, 3, 5))["O1"]
    assert (lost["is_closed"], lost["is_won"], lost["close_date"]) == (True, False, date(2024, 3, 1))
    reopened_ = state_on(s, date(2024, 3, 10))["O1"]
    assert (reopened_["is_closed"], reopened_["close_date"]) == (False, None)
    won = state_on(s, date(2024, 6, 1))["O1"]
    assert (won["is_closed"], won["is_won"], won["close_date"]) == (True, True, date(2024, 4, 1))


def test_before_its_creation_an_opportunity_does_not_exist_and_before_its_history_it_is_open():
    s = Scenario()
    s.won("O1", date(2024, 1, 1), date(2024, 2, 1))
    s.stage("O1", "Closed Won", date(2024, 2, 1), closed=True, won=True)
    assert state_on(s, date(2023, 12, 31)) == {}
    early = state_on(s, date(2024, 1, 20))["O1"]
    assert (early["is_closed"], early["close_date"]) == (False, None)


def test_without_history_the_record_closes_on_its_close_date():
    s = Scenario()
    s.won("O1", date(2024, 1, 1), date(2024, 2, 1))
    before = state_on(s, date(2024, 1, 31))["O1"]
    assert (before["is_closed"], before["is_won"]) == (False, False)
    on = state_on(s, date(2024, 2, 1))["O1"]
    assert (on["is_closed"], on["is_won"], on["close_date"]) == (True, True, date(2024, 2, 1))


def test_same_day_changes_keep_their_recorded_order():
    s = Scenario()
    s.won("O1", date(2024, 1, 1), date(2024, 2, 1))
    s.stage("O1", "Closed Lost", date(2024, 2, 1), closed=True)
    s.stage("O1", "Closed Won", date(2024, 2, 1), closed=True, won=True)
    s.won("O2", date(2024, 1, 1), date(2024, 2, 1))
    s.stage("O2", "Closed Won", date(2024, 2, 1), closed=True, won=True)
    s.stage("O2", "Negotiation", date(2024, 2, 1))
    states = state_on(s, date(2024, 2, 1))
    assert states["O1"]["is_won"] is True
    assert states["O2"]["is_closed"] is False
