"""Sourced, influenced or direct: the grace, the look-back, the close date and the evidence decide."""

import itertools
from datetime import date, timedelta

import pytest

from ecoops.engines.metrics import MetricsSettings, classify_opportunities, explain_opportunity, take_snapshot
from tests.engines.metrics.factories import Scenario, rows_by

CREATED = date(2024, 3, 1)
CLOSED = date(2024, 5, 1)
AS_OF = date(2024, 6, 30)


def classes(s: Scenario, as_of: date = AS_OF, settings: MetricsSettings | None = None) -> dict:
    records = classify_opportunities(take_snapshot(s.inputs(), as_of, settings)).records
    return {
        k: (r["classification"], r["source_partner_id"])
        for k, r in rows_by(records, "opportunity_crm_id").items()
    }


def one_won_with(kind: str, touched_on: date, **fields) -> Scenario:
    s = Scenario()
    s.won("O1", CREATED, CLOSED)
    s.touch(10, "O1", kind, touched_on, **fields)
    return s


@pytest.mark.parametrize(
    ("days_after_creation", "expected"),
    [(-400, "sourced"), (0, "sourced"), (7, "sourced"), (8, "direct")],
)
def test_sourcing_counts_up_to_the_created_date_plus_the_grace(days_after_creation, expected):
    s = one_won_with("deal_registration", CREATED + timedelta(days_after_creation))
    assert classes(s)["O1"][0] == expected


def test_the_grace_is_a_setting():
    s = one_won_with("referral", CREATED + timedelta(9))
    assert classes(s, settings=MetricsSettings(sourcing_grace_days=9))["O1"] == ("sourced", 10)


@pytest.mark.parametrize(
    ("touched_on", "expected"),
    [
        (CREATED - timedelta(90), "influenced"),
        (CREATED - timedelta(91), "direct"),
        (CLOSED, "influenced"),
        (CLOSED + timedelta(1), "direct"),
    ],
)
def test_influence_counts_from_the_look_back_to_the_close_date(touched_on, expected):
    assert classes(one_won_with("co_sell", touched_on))["O1"][0] == expected


def test_a_sourcing_touch_after_the_close_never_counts():
    # Created and won within the grace: the registration on the day after the close is too late.
    s = Scenario()
    s.won("O1", CREATED, CREATED + timedelta(2))
    s.touch(10, "O1", "deal_registration", CREATED + timedelta(3))
    assert classes(s)["O1"][0] == "direct"


def test_an_open_opportunity_counts_touches_up_to_the_as_of_date():
    s = Scenario()
    s.opportunity("O1", CREATED)
    s.touch(10, "O1", "co_sell", date(2024, 4, 10))
    assert classes(s, as_of=date(2024, 4, 9))["O1"][0] == "direct"
    assert classes(s, as_of=date(2024, 4, 10))["O1"][0] == "influenced"


@pytest.mark.parametrize("status", ["proposed", "disputed"])
def test_only_confirmed_touches_count(status):
    assert classes(one_won_with("referral", CREATED, status=status))["O1"][0] == "direct"


def test_delivery_touches_never_classify():
    assert classes(one_won_with("delivery", CREATED + timedelta(10)))["O1"][0] == "direct"


def test_sourced_wins_over_influenced_and_the_earliest_sourcing_partner_is_the_source():
    s = Scenario()
    s.won("O1", CREATED, CLOSED)
    s.touch(30, "O1", "co_sell", CREATED - timedelta(5))
    s.touch(20, "O1", "deal_registration", CREATED + timedelta(2))
    s.touch(40, "O1", "referral", CREATED + timedelta(1))
    assert classes(s)["O1"] == ("sourced", 40)


def test_a_tie_for_the_earliest_sourcing_touch_goes_to_the_lower_partner_id():
    s = Scenario()
    s.won("O1", CREATED, CLOSED)
    s.touch(40, "O1", "referral", CREATED)
    s.touch(20, "O1", "crm_source", CREATED)
    assert classes(s)["O1"] == ("sourced", 20)


def test_an_account_touch_reaches_every_opportunity_of_the_account_within_the_windows():
    s = Scenario()
    s.won("O1", CREATED, CLOSED, account_crm_id="A")
    s.opportunity("O2", date(2024, 9, 1), account_crm_id="A")
    s.opportunity("O3", CREATED, account_crm_id="B")
    s.touch(10, None, "referral", CREATED - timedelta(30), account_crm_id="A")
    # An old account referral does not source a deal opened 18 months later.
    s.touch(11, None, "referral", date(2023, 1, 1), account_crm_id="A")
    got = classes(s, as_of=date(2024, 9, 30))
    assert got == {"O1": ("sourced", 10), "O2": ("direct", None), "O3": ("direct", None)}


def test_the_explanation_shows_every_touch_with_its_evidence_and_why_it_counts_or_not():
    s = Scenario()
    s.won("O1", CREATED, CLOSED)
    s.touch(10, "O1", "referral", CREATED, evidence_type="referral", evidence_ref="42")
    s.touch(20, "O1", "co_sell", CREATED + timedelta(20), evidence_type="user", evidence_ref="7")
    s.touch(30, "O1", "content", CLOSED + timedelta(1))
    s.touch(40, "O1", "deal_registration", CREATED + timedelta(30))
    s.touch(50, "O1", "delivery", CLOSED)
    s.touch(60, "O1", "co_sell", CREATED, status="disputed")
    explanation = explain_opportunity(take_snapshot(s.inputs(), AS_OF), "O1")
    assert explanation.opportunity.to_pylist()[0]["classification"] == "sourced"
    verdicts = {r["partner_id"]: r["verdict"] for r in explanation.touches.to_pylist()}
    assert verdicts == {
        10: "counts",
        20: "counts",
        30: "after_close",
        40: "after_grace",
        50: "delivery_no_credit",
        60: "status_not_counted",
    }
    evidence = rows_by(explanation.touches, "partner_id")[10]
    assert (evidence["evidence_type"], evidence["evidence_ref"], evidence["linked_via"]) == (
        "referral",
        "42",
        "opportunity",
    )
    shares = rows_by(explanation.shares, "partner_id")
    assert shares[10]["sourced"] == 1.0 and shares[20]["sourced"] == 0.0
    assert shares[10]["linear"] == shares[20]["linear"] == 0.5


# counting_touch states the verdict rules as conditions for speed; both must pick the same touch links.
# Each kind, linked by opportunity and by account, on every day around the grace, the look-back, the
# close and the as-of date, on a won and an open opportunity, in every status.
def test_the_counting_touches_are_those_whose_verdict_is_counts():
    s = Scenario()
    offsets = [*range(-93, -86), *range(-2, 10), *range(59, 63), 120]
    kinds = ("referral", "crm_source", "co_sell", "overlap", "delivery")
    for n, (kind, offset, via, status) in enumerate(
        itertools.product(kinds, offsets, ("opportunity", "account"), ("confirmed", "proposed"))
    ):
        account = f"A{n}"
        if n % 2:
            s.won(f"O{n}", CREATED, CLOSED, account_crm_id=account)
        else:
            s.opportunity(f"O{n}", CREATED, account_crm_id=account)
        on = None if via == "account" else f"O{n}"
        s.touch(10, on, kind, CREATED + timedelta(offset), account_crm_id=account, status=status)
    snapshot = take_snapshot(s.inputs(), CREATED + timedelta(61))
    link = "SELECT touch_id, opportunity_key FROM {} ORDER BY ALL"
    counting = snapshot.fetch(link.format("counting_touch")).to_pylist()
    assert len(counting) > 100
    assert counting == snapshot.fetch(link.format("touch_verdict WHERE verdict = 'counts'")).to_pylist()
