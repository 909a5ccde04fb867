"""Figures for an actor: the engine's numbers on the same records, permissions checked, rules in force."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from ecoops.accounts.service import user_actor
from ecoops.actors import SYSTEM, Role
from ecoops.attribution.rules import change_rules
from ecoops.config import Settings
from ecoops.engines.metrics import Filters, Period, dashboard, take_snapshot
from ecoops.metrics import service
from ecoops.metrics.feed import load_inputs
from ecoops.permissions import Forbidden, NotFound
from tests.factories import make_partner_user, make_user
from tests.metrics.scenario import AS_OF, Q1, seed

QUERY = service.MetricsQuery(AS_OF, Period(*Q1))


def _without_names(table: object) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = table.to_pylist()  # type: ignore[attr-defined]
    return [{k: v for k, v in r.items() if k not in ("partner", "program", "source_partner")} for r in rows]


@pytest.mark.all_backends
def test_report_matches_the_engine_on_the_same_records(session: Session, settings: Settings) -> None:
    seed(session)
    report = service.report(session, SYSTEM, settings, QUERY)
    with take_snapshot(load_inputs(session, ZoneInfo("UTC")).inputs, AS_OF) as snapshot:
        direct = {
            name: e.figures for name, e in dashboard(snapshot, QUERY.period, QUERY.target_revenue).items()
        }
    for name, figures in direct.items():
        assert _without_names(report.figures[name]) == figures.to_pylist(), name
    assert report.skipped_opportunities == 1


def test_revenue_by_month_and_scorecard_by_hand(session: Session, settings: Settings) -> None:
    scenario = seed(session)
    figures = service.report(session, SYSTEM, settings, QUERY, ["revenue_by_month", "scorecard"]).figures
    months = {r["month"]: r for r in figures["revenue_by_month"].to_pylist()}
    assert list(months) == ["2025-01", "2025-02", "2025-03"]
    assert months["2025-01"]["sourced_revenue"] is None  # nothing won in January: no data
    assert months["2025-01"]["sourced_won_opportunities"] == 0
    assert months["2025-02"]["sourced_revenue"] == 1000.0
    assert (months["2025-03"]["sourced_revenue"], months["2025-03"]["influenced_revenue"]) == (3000.0, 2000.0)
    cards = {r["partner"]: r for r in figures["scorecard"].to_pylist()}
    assert cards["Acme Partners"]["sourced_revenue"] == 3000.0
    assert cards["Acme Partners"]["linear_revenue"] == 5000.0  # deal 5 and the influenced deal 2
    assert cards["Beta Co"]["linear_revenue"] == 1000.0
    assert cards["Beta Co"]["referrals_sent"] == 1 and cards["Beta Co"]["value_sent"] == 700.0
    assert scenario.acme.id == cards["Acme Partners"]["partner_id"]


def test_filters_records_and_explanations(session: Session, settings: Settings) -> None:
    scenario = seed(session)
    beta_only = service.MetricsQuery(AS_OF, QUERY.period, Filters(partner_ids=(scenario.beta.id,)))
    revenue = {
        r["classification"]: r
        for r in service.report(session, SYSTEM, settings, beta_only, ["revenue"])
        .figures["revenue"]
        .to_pylist()
    }
    assert revenue["sourced"]["revenue"] == 1000.0
    assert revenue["influenced"]["revenue"] is None  # no data for Beta, never 0
    rows = service.records(session, SYSTEM, settings, QUERY, "revenue", "influenced")
    assert rows.column("opportunity_crm_id").to_pylist() == [scenario.deals[2].crm_id]
    explanation = service.explain(session, SYSTEM, settings, AS_OF, scenario.deals[1].crm_id)
    assert explanation.opportunity["classification"] == "sourced"
    assert explanation.opportunity["source_partner"] == "Beta Co"
    assert {(t["partner"], t["kind"], t["status"]) for t in explanation.touches} == {
        ("Beta Co", "referral", "confirmed"),
        ("Acme Partners", "crm_source", "proposed"),
    }
    assert [(s["partner"], s["sourced"], s["linear"]) for s in explanation.shares] == [("Beta Co", 1.0, 1.0)]
    evidence = {
        t["kind"]: (t["evidence_type"], t["evidence_ref"], t["recorded_by"]) for t in explanation.touches
    }
    assert evidence == {
        "referral": ("referral", "9", "referral desk"),
        "crm_source": ("crm_field", "partner_source", "derived from the CRM field"),
    }
    with pytest.raises(NotFound):
        service.explain(session, SYSTEM, settings, AS_OF, scenario.deals[3].crm_id)


def test_rules_in_force_change_the_figures(session: Session, settings: Settings) -> None:
    seed(session)
    # With no look-back at all, Acme's co-sell on 1 Feb still counts for deal 2 (created 5 Jan, open then).
    change_rules(
        session,
        SYSTEM,
        sourcing_grace_days=1,
        influence_look_back_days=0,
        time_decay_half_life_days=10,
        reason="agreed at kick-off",
        currency="USD",
    )
    revenue = {
        r["classification"]: r
        for r in service.report(session, SYSTEM, settings, QUERY, ["revenue"]).figures["revenue"].to_pylist()
    }
    # Beta's referral came 2 days after deal 1's creation: outside a 1-day grace, so only deal 5 is sourced.
    assert revenue["sourced"]["revenue"] == 3000.0


def test_partner_users_and_unknown_figures_are_refused(session: Session, settings: Settings) -> None:
    scenario = seed(session)
    partner_user = make_partner_user(session, scenario.acme)
    from ecoops.accounts.service import partner_user_actor

    with pytest.raises(Forbidden):
        service.report(session, partner_user_actor(partner_user), settings, QUERY)
    viewer = user_actor(make_user(session, Role.VIEWER))
    assert service.report(session, viewer, settings, QUERY, ["pipeline"]).figures["pipeline"].num_rows == 3
    with pytest.raises(ValueError, match="unknown figure"):
        service.report(session, viewer, settings, QUERY, ["nope"])
