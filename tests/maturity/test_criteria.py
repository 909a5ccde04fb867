"""The maturity criteria against hand-worked workspaces: an empty one, and tests/goals' scenario as of
31 March 2025 (its deals and referrals worked out in tests/goals/scenario.py), with integrations whose
validation falls on either side of the day assessed, and a count exactly at its threshold.

By hand, as of 31 March 2025 (the twelve months from 1 April 2024):
  won revenue 5,000: A 1,000 sourced by Acme (closed 31 Mar), C 4,000 influenced by Beta; B closes 1 Apr
  sourced share 1,000 / 5,000 = 0.2 (≥ 0.10, met); influenced share 0.8 (≥ 0.20, met)
  influenced deals won: 1 (< 5, not met); referrals received: 1, Acme's of 31 Mar (< 10, not met)
  attach rate on 31 Mar: open B 2,000 + D 500 partner-sourced, E 300 direct: 2,500 / 2,800 (≥ 0.5, met)
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ecoops.actors import SYSTEM
from ecoops.automation import jobs
from ecoops.automation.jobs import TICK_JOBS
from ecoops.automation.worker import Worker
from ecoops.config import Settings
from ecoops.db import make_engine, migrate, session_factory
from ecoops.jobs.models import Job
from ecoops.maturity import criteria
from ecoops.maturity.criteria import CRITERIA, Result, stage_of
from ecoops.maturity.integrations import IntegrationInput, create_integration, update_integration
from ecoops.maturity.models import MaturityAssessment, MaturityStage
from tests.conftest import fresh_postgres_database
from tests.goals.scenario import World, seed
from tests.jobs.helpers import work_jobs

MARCH_31 = date(2025, 3, 31)


def _figures(found: criteria.Assessment) -> dict[str, tuple[float | None, bool]]:
    return {r.criterion.key: (r.value, r.met) for r in found.results}


def _integrate(session: Session, w: World, name: str, validated_on: date) -> None:
    data = IntegrationInput(w.acme.id, name, "building", None, changed_on=date(2025, 1, 2))
    found = create_integration(session, SYSTEM, data, date(2025, 1, 2))
    update_integration(
        session,
        SYSTEM,
        found,
        IntegrationInput(w.acme.id, name, "validated", None, changed_on=validated_on),
        validated_on,
    )


@pytest.mark.all_backends
def test_an_empty_workspace_is_in_launch_with_nothing_met(session: Session, settings: Settings) -> None:
    found = criteria.assess(session, SYSTEM, settings, MARCH_31)
    assert found.stage == MaturityStage.LAUNCH and not found.complete
    assert _figures(found) == {
        "validated_integrations": (0.0, False),
        "q_integration_owners": (None, False),
        "referrals_received": (0.0, False),
        "sourced_revenue_share": (None, False),  # a share of no revenue is no data, not 0
        "q_rules_of_engagement": (None, False),
        "influenced_won": (0.0, False),
        "influenced_revenue_share": (None, False),
        "q_joint_plans": (None, False),
        "attach_rate": (None, False),
        "q_revops_productops": (None, False),
    }


@pytest.mark.all_backends
def test_the_scenario_reaches_prove_with_two_integrations_validated_by_the_day(
    session: Session, settings: Settings
) -> None:
    w = seed(session)
    _integrate(session, w, "CRM sync", date(2025, 3, 1))
    _integrate(session, w, "Slack app", date(2025, 4, 1))  # validated the day after
    criteria.answer(session, SYSTEM, "q_integration_owners", "yes", MARCH_31)
    before = criteria.assess(session, SYSTEM, settings, MARCH_31)
    assert _figures(before)["validated_integrations"] == (1.0, False)
    assert before.stage == MaturityStage.LAUNCH
    found = criteria.assess(session, SYSTEM, settings, date(2025, 4, 1))  # exactly the threshold, 2
    assert _figures(found)["validated_integrations"] == (2.0, True)
    on_31 = _figures(criteria.assess(session, SYSTEM, settings, MARCH_31))
    assert on_31["sourced_revenue_share"] == (pytest.approx(0.2), True)
    assert on_31["influenced_revenue_share"] == (pytest.approx(0.8), True)
    assert on_31["influenced_won"] == (1.0, False)
    assert on_31["referrals_received"] == (1.0, False)
    assert on_31["attach_rate"] == (pytest.approx(2500 / 2800), True)
    assert found.stage == MaturityStage.PROVE  # Prove's referrals (1 of 10) hold it there


def test_the_stage_is_the_first_whose_criteria_are_not_all_met() -> None:
    def results(met: set[MaturityStage]) -> list[Result]:
        return [Result(c, 1.0, c.stage in met, "") for c in CRITERIA]

    assert stage_of(results({MaturityStage.PROVE, MaturityStage.SCALE})) == MaturityStage.LAUNCH
    assert stage_of(results({MaturityStage.LAUNCH, MaturityStage.SCALE})) == MaturityStage.PROVE
    assert stage_of(results(set(MaturityStage))) == MaturityStage.EMBED
    at = next(c for c in CRITERIA if c.key == "attach_rate")
    assert (at.threshold, Result(at, 0.5, at.threshold <= 0.5, "").met) == (0.5, True)


@pytest.mark.all_backends
def test_assessments_are_kept_once_a_day_by_the_worker_and_on_demand(
    session: Session, sessions: sessionmaker[Session], settings: Settings
) -> None:
    assert criteria.assess_daily(session, settings, datetime(2025, 3, 31, 12, tzinfo=UTC)) == 1
    assert criteria.assess_daily(session, settings, datetime(2025, 3, 31, 18, tzinfo=UTC)) == 0
    # The tick only queued the day's job: nothing is computed or kept inside its transaction.
    assert session.scalar(select(func.count()).select_from(MaturityAssessment)) == 0
    queued = session.scalars(select(Job)).all()
    assert [(j.kind, j.arguments) for j in queued] == [("maturity.assess", {"day": "2025-03-31"})]
    session.commit()
    assert work_jobs(sessions, settings) == ["done"]
    criteria.record(session, SYSTEM, settings, MARCH_31)  # on demand: kept beside the day's own
    assert criteria.assess_daily(session, settings, datetime(2025, 4, 1, 9, tzinfo=UTC)) == 1
    session.commit()
    assert work_jobs(sessions, settings) == ["done"]
    kept = criteria.history(session, SYSTEM).items
    assert [(k.assessed_on, k.stage, k.run_by) for k in kept] == [
        (date(2025, 4, 1), "launch", SYSTEM.label),
        (MARCH_31, "launch", SYSTEM.label),
        (MARCH_31, "launch", SYSTEM.label),
    ]
    assert kept[0].criteria[0] == {"key": "validated_integrations", "value": 0.0, "met": False}
    assert session.scalar(select(func.count()).select_from(MaturityAssessment)) == 3
    assert criteria.assess_daily in TICK_JOBS  # the worker runs it on every tick


@pytest.mark.all_backends
def test_the_questionnaire_takes_yes_or_no_for_its_own_questions(session: Session) -> None:
    criteria.answer(session, SYSTEM, "q_joint_plans", "yes", MARCH_31)
    stored = criteria.answer(session, SYSTEM, "q_joint_plans", "no", date(2025, 4, 2))
    assert (stored.answer, stored.answered_on) == (False, date(2025, 4, 2))
    with pytest.raises(criteria.FieldError, match=r"^q_joint_plans: answer yes or no, not 'maybe'$"):
        criteria.answer(session, SYSTEM, "q_joint_plans", "maybe", MARCH_31)
    with pytest.raises(criteria.FieldError, match=r"^question: must be one of"):
        criteria.answer(session, SYSTEM, "q_unknown", "yes", MARCH_31)


def test_a_second_worker_on_the_same_tick_is_refused_quietly(
    request: pytest.FixtureRequest,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Two workers on PostgreSQL (on SQLite the second waits for the write lock, then sees the mark):
    the one whose day mark comes second is refused by its unique key, and that is logged as what it is,
    not as a failure with a traceback; one job is queued."""
    engine = make_engine(fresh_postgres_database(request.getfixturevalue("postgres_admin_url")))
    migrate(engine)
    sessions = session_factory(engine)
    monkeypatch.setattr(jobs, "TICK_JOBS", (criteria.assess_daily,))
    now = datetime(2025, 3, 31, 12, tzinfo=UTC)
    second = Worker(sessions, settings, clock=now.timestamp)
    with sessions() as first:  # the first worker's tick, not committed yet
        assert criteria.assess_daily(first, settings, now) == 1
        racing = threading.Thread(target=second.run_jobs)
        with caplog.at_level(logging.INFO, logger="ecoops.worker"):
            racing.start()
            time.sleep(1)  # the second has read no mark and waits on the first's
            first.commit()
            racing.join(timeout=30)
    assert not racing.is_alive()
    assert [r.levelno for r in caplog.records] == [logging.INFO]
    assert "another worker did it first" in caplog.records[0].getMessage()
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 1
    engine.dispose()
