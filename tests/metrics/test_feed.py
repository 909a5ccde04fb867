"""The feed: stored records become the engine's tables, gaps settled as docs/dashboards.md says."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest
from sqlalchemy import literal, select
from sqlalchemy.orm import Session

from ecoops.crm.models import OpportunityStageChange
from ecoops.engines.metrics import Period, eql_pre_pipeline, partner_revenue, pipeline_by_class, take_snapshot
from ecoops.mapping.models import OverlapPeriod
from ecoops.metrics import feed
from ecoops.metrics.feed import load_inputs
from tests.factories import make_account, make_opportunity
from tests.metrics.scenario import AS_OF, Q1, seed

pytestmark = pytest.mark.all_backends


def test_tables_hold_the_stored_records_with_their_gaps_settled(session: Session) -> None:
    scenario = seed(session)
    feed = load_inputs(session, ZoneInfo("UTC"))
    deals = scenario.deals

    assert feed.skipped_opportunities == 1  # deal 3 has no created date
    assert sorted(feed.inputs.opportunities.column("crm_id").to_pylist()) == sorted(
        deals[n].crm_id for n in (1, 2, 4, 5)
    )
    history = feed.inputs.opportunity_stage_changes.sort_by("changed_on").to_pylist()
    assert [(h["stage"], h["is_closed"], h["is_won"]) for h in history] == [
        ("Prospecting", False, False),
        ("Closed Won", True, True),
    ]
    touches = {
        (t["opportunity_crm_id"], t["partner_id"], t["kind"]): t for t in feed.inputs.touches.to_pylist()
    }
    assert len(touches) == 5  # three stored, two derived from the partner-source field
    derived_1 = touches[(deals[1].crm_id, scenario.acme.id, "crm_source")]
    derived_2 = touches[(deals[2].crm_id, scenario.acme.id, "crm_source")]
    for derived, deal in ((derived_1, deals[1]), (derived_2, deals[2])):
        assert derived["status"] == "proposed"
        assert derived["touched_on"] == deal.created_on
        assert derived["touch_id"] == -deal.id
        assert (derived["evidence_type"], derived["evidence_ref"]) == ("crm_field", "partner_source")
    assert touches[(deals[5].crm_id, scenario.acme.id, "crm_source")]["status"] == "confirmed"
    # The engine links by row id: every touch and stage change names its opportunity's, or none.
    ids = {deal.crm_id: deal.id for deal in deals.values()}
    for row in (*touches.values(), *history):
        assert row["opportunity_id"] == ids.get(row["opportunity_crm_id"])
    assert feed.inputs.referrals.to_pylist() == [
        {
            "referral_id": feed.inputs.referrals.column("referral_id")[0].as_py(),
            "partner_id": scenario.beta.id,
            "direction": "out",
            "created_on": date(2025, 2, 3),
            "declared_value": 700.0,
            "opportunity_crm_id": None,
        }
    ]


def test_hand_worked_revenue_and_pipeline(session: Session) -> None:
    seed(session)
    feed = load_inputs(session, ZoneInfo("UTC"))
    with take_snapshot(feed.inputs, AS_OF) as snapshot:
        revenue = {r["classification"]: r for r in partner_revenue(snapshot, Period(*Q1)).figures.to_pylist()}
        pipeline = {r["classification"]: r for r in pipeline_by_class(snapshot).figures.to_pylist()}
    # Deal 1 (Beta's referral) and deal 5 (Acme's confirmed crm_source) are sourced; deal 2 influenced.
    assert (revenue["sourced"]["won_opportunities"], revenue["sourced"]["revenue"]) == (2, 4000.0)
    assert (revenue["influenced"]["won_opportunities"], revenue["influenced"]["revenue"]) == (1, 2000.0)
    assert pipeline["direct"]["pipeline"] == 500.0
    assert pipeline["sourced"]["pipeline"] is None  # nothing open: no data, not 0


def test_referral_days_follow_the_workspace_time_zone(session: Session) -> None:
    seed(session)
    feed = load_inputs(session, ZoneInfo("Pacific/Auckland"))  # 12:00 UTC is already the next day there
    assert feed.inputs.referrals.column("created_on").to_pylist() == [date(2025, 2, 4)]


def test_overlaps_are_fed_with_our_populations_of_today(session: Session) -> None:
    scenario = seed(session)
    make_account(session, crm_id="A4")  # deal 4 is open: our open-opportunities population
    make_account(session, crm_id="A9")  # no deal: a prospect
    for account, label in (("A4", "Customers"), ("A9", "customer"), ("A9", "Partners")):
        session.add(
            OverlapPeriod(
                partner_id=scenario.acme.id,
                account_crm_id=account,
                their_population=label,
                began_on=date(2025, 1, 15),
            )
        )
    session.flush()
    feed = load_inputs(session, ZoneInfo("UTC"))
    fed = sorted(
        (o["our_account_crm_id"], o["our_population"], o["partner_population"])
        for o in feed.inputs.overlaps.to_pylist()
    )
    assert fed == [
        ("A4", "open_opportunities", "customers"),
        ("A9", "prospects", "Partners"),
        ("A9", "prospects", "customers"),
    ]
    with take_snapshot(feed.inputs, AS_OF) as snapshot:
        pre_pipeline = eql_pre_pipeline(snapshot).figures.to_pylist()
    # A4 at its open amount (500); A9 at the mean won deal of 12 months: (1,000 + 2,000 + 3,000) / 3.
    assert pre_pipeline == [{"accounts": 2, "valued_at_average": 1, "value": 2500.0}]


def test_values_a_csv_could_garble_come_through_as_stored(session: Session) -> None:
    """The records come as CSV from COPY on PostgreSQL and as SQLite stores them (dates as text, booleans
    as numbers) elsewhere: separators, quotes, line breaks, words other readers take for null, empty
    strings and nulls must each come back as stored."""
    ugly = make_opportunity(
        session,
        crm_id='006,"quoted"',
        account_crm_id="NA",
        stage="Closed\nWon",
        owner="NULL",
        amount=Decimal("1234.56"),
        is_closed=True,
        is_won=True,
    )
    plain = make_opportunity(session, account_crm_id="", stage="", owner="", amount=None, close_date=None)
    # Stage history without flags: told by the opportunity (its current stage) or by the stage's name.
    for stage, on in (
        ("Closed\nWon", date(2025, 4, 1)),
        ("Closed Lost", date(2025, 3, 2)),
        ("N/A", date(2025, 3, 1)),
    ):
        session.add(OpportunityStageChange(opportunity_crm_id=ugly.crm_id, stage=stage, changed_on=on))
    session.add(
        OpportunityStageChange(opportunity_crm_id=plain.crm_id, stage="", changed_on=date(2025, 3, 1))
    )
    session.flush()

    inputs = load_inputs(session, ZoneInfo("UTC")).inputs
    opportunities = {row["opportunity_id"]: row for row in inputs.opportunities.to_pylist()}
    assert opportunities[ugly.id] == {
        "opportunity_id": ugly.id,
        "crm_id": '006,"quoted"',
        "account_crm_id": "NA",
        "amount": 1234.56,
        "created_on": date(2025, 3, 1),
        "close_date": date(2025, 6, 30),
        "is_closed": True,
        "is_won": True,
        "stage": "Closed\nWon",
        "owner": "NULL",
    }
    assert opportunities[plain.id] | {"opportunity_id": 0, "crm_id": ""} == {
        "opportunity_id": 0,
        "crm_id": "",
        "account_crm_id": None,
        "amount": None,
        "created_on": date(2025, 3, 1),
        "close_date": None,
        "is_closed": False,
        "is_won": False,
        "stage": "",
        "owner": None,
    }
    told = sorted(
        (row["opportunity_id"], row["changed_on"], row["stage"], row["is_closed"], row["is_won"])
        for row in inputs.opportunity_stage_changes.to_pylist()
    )
    assert told == [
        (ugly.id, date(2025, 3, 1), "N/A", False, False),  # by its name: open
        (ugly.id, date(2025, 3, 2), "Closed Lost", True, False),  # by its name
        (ugly.id, date(2025, 4, 1), "Closed\nWon", True, True),  # the opportunity's current stage
        (plain.id, date(2025, 3, 1), "", False, False),  # the current stage of an open opportunity
    ]


def test_a_percent_sign_in_a_statement_reaches_the_database_once(session: Session) -> None:
    # Statements are sent with their values in the text: a `%` doubled for psycopg's placeholders
    # would reach PostgreSQL's COPY as two.
    statement = select(literal("50%"), literal(7) % literal(3))
    table = feed._table(session, statement, pa.schema([("share", pa.string()), ("rest", pa.int64())]))
    assert table.to_pylist() == [{"share": "50%", "rest": 1}]


def test_stage_history_is_fed_only_for_the_opportunities_fed(session: Session) -> None:
    fed = make_opportunity(session)
    unplaced = make_opportunity(session, created_on=None)  # cannot be placed in time: left out
    for crm_id in (fed.crm_id, unplaced.crm_id, "006-never-imported"):
        session.add(
            OpportunityStageChange(
                opportunity_crm_id=crm_id, stage="Prospecting", changed_on=date(2025, 3, 1)
            )
        )
    session.flush()

    history = load_inputs(session, ZoneInfo("UTC")).inputs.opportunity_stage_changes
    assert [(row["opportunity_id"], row["opportunity_crm_id"]) for row in history.to_pylist()] == [
        (fed.id, fed.crm_id)
    ]
