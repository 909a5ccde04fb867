"""Fit scores against the hand-worked workspace of tests/fit/scenario.py, and the criteria's checks."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.actors import SYSTEM
from ecoops.fit import service
from ecoops.fit.models import Criterion
from ecoops.fit.scoring import DEFAULTS, Facts, Setting, score
from ecoops.mapping import runs, uploads
from ecoops.mapping.models import Match
from ecoops.mapping.overlaps import overlap_rows, overlapping_accounts
from ecoops.maturity import integrations
from ecoops.partners.programs import FieldError
from tests.factories import make_partner
from tests.fit.scenario import seed
from tests.mapping.test_mapping_runs import PARTNER_ROWS, write


@pytest.mark.all_backends
def test_candidates_rank_by_their_hand_worked_scores(session: Session, tmp_path: Path) -> None:
    w = seed(session, tmp_path)
    ranked = service.ranked(session, SYSTEM, who="candidates")
    assert [(r.partner.name, r.fit.score) for r in ranked] == [("Northwind", 77.5), ("Contoso", 0.0)]
    lines = {
        line.criterion: (line.value, line.fraction, line.weight, line.points) for line in ranked[0].fit.lines
    }
    assert lines == {
        Criterion.PARTNER_TYPE: ("technology", 1.0, 20, 20.0),
        Criterion.CUSTOMER_OVERLAP: ("2", 0.5, 30, 15.0),
        Criterion.PIPELINE_OVERLAP: ("2", 1.0, 20, 20.0),
        Criterion.REGION: ("US", 1.0, 10, 10.0),
        Criterion.SIZE: ("500", 1.0, 10, 10.0),
        Criterion.INTEGRATION: ("building", 0.5, 5, 2.5),
        Criterion.REFERRAL_CONVERSION: ("no referrals yet", 0.0, 5, 0.0),
    }
    current = service.ranked(session, SYSTEM, who="current")
    assert [(r.partner.name, r.fit.score) for r in current] == [("Beta", 15.0)]
    beta = service.explained(session, SYSTEM, w.beta.id).fit.lines
    assert [line.value for line in beta if line.criterion == Criterion.REFERRAL_CONVERSION] == [
        "50% (1 of 2)"
    ]
    assert [r.partner.name for r in service.ranked(session, SYSTEM, who="all", partner_type="reseller")] == [
        "Contoso"
    ]


def test_the_integration_registry_decides_the_status_of_the_partners_in_it(
    session: Session, tmp_path: Path
) -> None:
    w = seed(session, tmp_path)  # Northwind's profile says "building"

    def integration_line() -> tuple[str, float]:
        lines = service.explained(session, SYSTEM, w.northwind.id).fit.lines
        (line,) = [(x.value, x.points) for x in lines if x.criterion == Criterion.INTEGRATION]
        return line

    assert integration_line() == ("building", 2.5)
    for name, status in (("Sync", "idea"), ("Connector", "validated"), ("App", "building")):
        data = integrations.IntegrationInput(w.northwind.id, name, status, None)
        integrations.create_integration(session, SYSTEM, data, date(2025, 3, 1))
    assert integration_line() == ("validated", 3.75)  # the most advanced of its three, over the profile


def _facts(**given: object) -> Facts:
    base: dict[str, object] = {
        "partner_type": "technology",
        "country": "",
        "employees": None,
        "integration_status": "",
        "customer_overlap": 0,
        "pipeline_overlap": 0,
        "referrals": 0,
        "converted": 0,
    }
    return Facts(**(base | given))  # type: ignore[arg-type]


def test_the_size_range_holds_both_ends_and_nothing_outside() -> None:
    size = {Criterion.SIZE: Setting(10, "50-500")}
    assert [score(_facts(employees=n), size).score for n in (49, 50, 500, 501)] == [0.0, 100.0, 100.0, 0.0]
    assert score(_facts(), size).lines[0].value == "not known"


def test_overlaps_earn_a_share_up_to_their_target_and_no_more() -> None:
    overlap = {Criterion.CUSTOMER_OVERLAP: Setting(30, "4")}
    assert [score(_facts(customer_overlap=n), overlap).points for n in (0, 1, 4, 9)] == [0.0, 7.5, 30.0, 30.0]


def test_weights_of_zero_leave_a_criterion_out_of_the_score() -> None:
    settings = {Criterion.PARTNER_TYPE: Setting(0, "reseller"), Criterion.REGION: Setting(10, "US")}
    assert score(_facts(country="US"), settings).score == 100.0
    assert score(_facts(), {Criterion.REGION: Setting(0, "US")}).score == 0.0  # nothing possible: 0, no crash


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"partner_type": ("10", "technology, robots")}, "partner_type.target: not a partner type: robots"),
        ({"region": ("10", "USA")}, "region.target: countries are 2-letter ISO codes, not USA"),
        ({"size": ("10", "500-50")}, "size.target: a head count range as min-max"),
        ({"customer_overlap": ("ten", "4")}, "customer_overlap.weight: must be a whole number"),
        ({"customer_overlap": ("101", "4")}, "customer_overlap.weight: must be between 0 and 100"),
        ({"referral_conversion": ("5", "1.5")}, "referral_conversion.target: must be between 0 and 1"),
        (
            {c.value: ("0", DEFAULTS[c][1]) for c in Criterion},
            "weight: at least one criterion needs a weight above 0",
        ),
    ],
)
def test_bad_criteria_are_refused_naming_the_field(
    session: Session, given: dict[str, tuple[str, str]], message: str
) -> None:
    with pytest.raises(FieldError) as refused:
        service.set_criteria(session, SYSTEM, given)
    assert str(refused.value).startswith(message)


def test_a_profile_refuses_a_negative_head_count_and_an_unknown_status(
    session: Session, tmp_path: Path
) -> None:
    w = seed(session, tmp_path)
    with pytest.raises(FieldError, match=r"^employees: must be 0 or more"):
        service.set_profile(session, SYSTEM, w.contoso.id, employees="-1", integration_status="")
    with pytest.raises(FieldError, match=r"^integration_status: must be one of"):
        service.set_profile(session, SYSTEM, w.contoso.id, employees="", integration_status="shipped")


def test_overlapping_accounts_at_once_are_overlap_rows_partner_by_partner(
    session: Session, tmp_path: Path
) -> None:
    world = seed(session, tmp_path)
    # Another partner whose list changed since its run: only matches to records of the current list count.
    other = make_partner(session, name="Fabrikam")
    uploads.upload_partner_list(
        session, SYSTEM, other.id, write(tmp_path, PARTNER_ROWS[:5], "f1.csv"), "f1.csv"
    )
    runs.run_mapping(session, SYSTEM, other.id)
    uploads.upload_partner_list(
        session, SYSTEM, other.id, write(tmp_path, PARTNER_ROWS[1:3], "f2.csv"), "f2.csv"
    )
    # A subsidiary's match ("related"), which overlap_rows leaves out.
    match = session.scalars(select(Match).where(Match.partner_id == world.northwind.id)).first()
    assert match is not None
    match.explanation = {**match.explanation, "relation": "subsidiary"}
    session.flush()
    partners = [world.northwind, world.contoso, world.beta, other]
    expected = {p.id: {r.our_crm_id for r in overlap_rows(session, p.id)} for p in partners}
    assert expected[other.id] and expected[world.northwind.id]  # the case is not empty
    found = overlapping_accounts(session)
    assert {p.id: found.get(p.id, set()) for p in partners} == expected
    assert overlapping_accounts(session, [other.id]) == {other.id: expected[other.id]}
