"""Program ROI against the hand-worked workspace of tests/goals/scenario.py, over Q1 2025.

By hand, with the default gross margin 0.8 and costs of 1,000 (people, 1 Jan), 500 (tools, 31 Mar: the
period's last day) and 999 (people, 1 Apr: outside): cost 1,500; sourced revenue 1,000 (deal A, won
31 Mar), influenced 4,000 (C); sourced gross profit 800, influenced 3,200.
- ROI on sourced gross profit = (800 - 1,500) ÷ 1,500 = -0.4667;
- ROI on sourced and influenced = (4,000 - 1,500) ÷ 1,500 = 1.6667;
- revenue per partner manager = 5,000 ÷ 1 (Dana owns Acme, active) = 5,000;
- attach rate on 31 Mar = (B 2,000 + D 500) ÷ (2,500 + E 300) = 0.892857;
- cost per sourced dollar = 1,500 ÷ 1,000 = 1.5.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from ecoops.actors import SYSTEM
from ecoops.commissions.models import CommissionEntry
from ecoops.config import Settings
from ecoops.engines.metrics import Period
from ecoops.partners.programs import FieldError
from ecoops.roi import service
from ecoops.roi.models import CostCategory, ProgramCost
from tests.goals.scenario import seed

Q1 = Period(date(2025, 1, 1), date(2025, 3, 31))


def _costs(session: Session) -> None:
    service.add_cost(session, SYSTEM, spent_on=date(2025, 1, 1), category="people", amount="1000")
    service.add_cost(session, SYSTEM, spent_on=date(2025, 3, 31), category="tools", amount="500.00")
    service.add_cost(session, SYSTEM, spent_on=date(2025, 4, 1), category="people", amount="999")


@pytest.mark.all_backends
def test_roi_figures_equal_the_hand_worked_ones(session: Session, settings: Settings) -> None:
    seed(session)
    _costs(session)
    found = service.roi(session, SYSTEM, settings, Q1)
    assert found.cost == Decimal(1500)
    assert found.cost_by_category == {"people": 1000, "funds": 0, "commissions": 0, "tools": 500}
    assert (found.sourced_revenue, found.influenced_revenue) == (Decimal(1000), Decimal(4000))
    assert round(found.roi_sourced or 0, 4) == Decimal("-0.4667")
    assert round(found.roi_attached or 0, 4) == Decimal("1.6667")
    assert found.revenue_per_manager == Decimal(5000)
    assert round(found.attach_rate or 0, 6) == Decimal("0.892857")
    assert found.cost_per_sourced_dollar == Decimal("1.5")
    assert [(m.month, m.cost, m.sourced_profit, m.influenced_profit) for m in found.months] == [
        ("2025-01", 1000, 0, 0),
        ("2025-02", 0, 0, 0),
        ("2025-03", 500, 800, 3200),
    ]


def test_a_period_ending_the_day_before_leaves_the_last_days_cost_out(
    session: Session, settings: Settings
) -> None:
    seed(session)
    _costs(session)
    found = service.roi(session, SYSTEM, settings, Period(date(2025, 1, 1), date(2025, 3, 30)))
    assert found.cost == Decimal(1000)
    assert found.sourced_revenue == 0  # deal A closes on 31 March
    assert found.cost_per_sourced_dollar is None


def test_no_cost_leaves_roi_not_defined_rather_than_failing(session: Session, settings: Settings) -> None:
    seed(session)
    found = service.roi(session, SYSTEM, settings, Q1)
    assert (found.cost, found.roi_sourced, found.roi_attached) == (0, None, None)
    assert found.cost_per_sourced_dollar == 0


def test_an_empty_workspace_defines_nothing(session: Session, settings: Settings) -> None:
    found = service.roi(session, SYSTEM, settings, Q1)
    assert (
        found.roi_sourced,
        found.attach_rate,
        found.revenue_per_manager,
        found.cost_per_sourced_dollar,
    ) == (
        None,
        None,
        None,
        None,
    )


def test_the_gross_margin_setting_changes_gross_profit(session: Session, settings: Settings) -> None:
    seed(session)
    _costs(session)
    assert service.set_gross_margin(session, SYSTEM, "50%") == Decimal("0.5")
    found = service.roi(session, SYSTEM, settings, Q1)
    assert round(found.roi_attached or 0, 4) == Decimal("0.6667")  # (2,500 - 1,500) ÷ 1,500
    for bad, message in (("0", "more than 0"), ("1.2", "more than 0"), ("lots", "must be a share")):
        with pytest.raises(FieldError, match=f"^gross_margin: .*{message}"):
            service.set_gross_margin(session, SYSTEM, bad)


@pytest.mark.parametrize(
    ("category", "amount", "message"),
    [
        ("snacks", "1", r"^category: must be one of people, funds, commissions, tools"),
        ("people", "-5", r"^amount: must be 0 or more"),
        ("people", "1.234", r"^amount: at most 2 decimals"),
        ("people", "abc", r"^amount: must be a number"),
    ],
)
def test_bad_costs_are_refused_naming_the_field(
    session: Session, category: str, amount: str, message: str
) -> None:
    with pytest.raises(FieldError, match=message):
        service.add_cost(session, SYSTEM, spent_on=date(2025, 1, 1), category=category, amount=amount)


@pytest.mark.all_backends
def test_the_ledger_gives_a_months_commissions_and_funds_once(session: Session) -> None:
    w = seed(session)

    def line(kind: str, cents: int, on: date, status: str = "approved") -> None:
        session.add(
            CommissionEntry(
                partner_id=w.acme.id,
                subject=f"{kind}-{cents}-{on}",
                kind=kind,
                amount_cents=cents,
                currency="USD",
                earned_on=on,
                closed_on=on,
                credit="source",
                explanation="",
                status=status,
            )
        )

    line("credit", 10_000, date(2025, 3, 1))
    line("reversal", -2_500, date(2025, 3, 31))  # the month's last day: in March
    line("credit", 50_000, date(2025, 3, 15), status="declined")  # costs nothing
    line("reimbursement", 30_000, date(2025, 3, 20))
    line("credit", 70_000, date(2025, 4, 1))  # April
    session.flush()
    taken = service.take_from_ledger(session, SYSTEM, date(2025, 3, 1))
    assert taken == {CostCategory.FUNDS: Decimal(300), CostCategory.COMMISSIONS: Decimal(75)}
    service.take_from_ledger(session, SYSTEM, date(2025, 3, 1))
    rows = service.costs(session, SYSTEM, Q1)
    assert sorted((r.spent_on, r.category, r.amount, r.source) for r in rows) == [
        (date(2025, 3, 1), "commissions", Decimal(75), "ledger"),
        (date(2025, 3, 1), "funds", Decimal(300), "ledger"),
    ]
    assert session.query(ProgramCost).count() == 2
    # dated on the 1st: a year to date that ends mid-month counts the month's ledger so far
    assert len(service.costs(session, SYSTEM, Period(date(2025, 1, 1), date(2025, 3, 15)))) == 2
    assert service.costs(session, SYSTEM, Period(date(2025, 2, 1), date(2025, 2, 28))) == []
