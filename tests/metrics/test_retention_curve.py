"""The retention curve: by hand on three partners, and its 12-month point is the engine's retention rate."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from ecoops.actors import SYSTEM
from ecoops.config import Settings
from ecoops.engines.metrics import Period
from ecoops.metrics import service
from ecoops.partners.service import change_stage
from tests.factories import make_partner

AS_OF = date(2025, 6, 30)


def test_curve_by_hand_and_against_the_engine(session: Session, settings: Settings) -> None:
    make_partner(session, stage="signed", stage_since=date(2024, 3, 31))  # still signed
    churned = make_partner(session, stage="signed", stage_since=date(2024, 1, 31))
    change_stage(session, SYSTEM, churned, to="churned", on=date(2024, 4, 15), today=AS_OF)
    make_partner(session, stage="active", stage_since=date(2025, 5, 15))  # 1 month in
    make_partner(session, stage="prospect", stage_since=date(2024, 1, 1))  # never signed
    query = service.MetricsQuery(AS_OF, Period(date(2025, 1, 1), AS_OF))
    figures = service.report(
        session, SYSTEM, settings, query, ["retention_curve", "tenure_and_retention"]
    ).figures
    curve = {r["months_after_signing"]: r for r in figures["retention_curve"].to_pylist()}
    # Month 0: all three signed; from month 2 the newest is out of the cohort; the churned one left on
    # 15 April 2024, after its 2-month point (31 March) and before its 3-month point (30 April).
    assert (curve[0]["cohort"], curve[0]["retained"]) == (3, 3)
    assert (curve[1]["cohort"], curve[1]["retained"]) == (
        3,
        3,
    )  # 31 Jan + 1 month = 29 Feb 2024, still signed
    assert (curve[2]["cohort"], curve[2]["retained"]) == (2, 2)
    assert (curve[3]["cohort"], curve[3]["retained"], curve[3]["retention_rate"]) == (2, 1, 0.5)
    assert (curve[15]["cohort"], curve[15]["retained"]) == (2, 1)  # 31 Mar 2024 + 15 months = 30 Jun 2025
    assert (curve[16]["cohort"], curve[16]["retention_rate"]) == (1, 0.0)  # only the churned one is that old
    assert curve[18]["cohort"] == 0 and curve[18]["retention_rate"] is None  # no data, not 0
    engine = figures["tenure_and_retention"].to_pylist()[0]
    assert (curve[12]["cohort"], curve[12]["retained"]) == (engine["retention_cohort"], engine["retained"])
    assert curve[12]["retention_rate"] == engine["retention_rate"]
