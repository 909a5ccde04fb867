"""Dashboards kept warm: the default query's figures are computed in the background for the records
in force, so a reader's request computes nothing; a change is computed once, by the warmer."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from ecoops.actors import SYSTEM, Role
from ecoops.config import Settings
from ecoops.db import make_engine, migrate
from ecoops.engines.metrics import NO_FILTERS
from ecoops.goals import plan
from ecoops.goals import service as goals
from ecoops.goals.service import GoalInput
from ecoops.metrics import cache, service, warm
from ecoops.web.app import create_app
from tests.factories import make_user, sign_in
from tests.metrics.scenario import AS_OF, Scenario, seed
from tests.metrics.test_service import QUERY


def _count_snapshots(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    taken: list[object] = []
    real = service.take_snapshot

    def counting(*args: object) -> object:
        taken.append(args)
        return real(*args)

    monkeypatch.setattr(service, "take_snapshot", counting)
    return taken


def _default(session: Session, settings: Settings) -> dict[str, list[dict[str, object]]]:
    """Every figure a reader opening the dashboards without filters reads."""
    report = service.report(session, SYSTEM, settings, service.build_query(settings.today()))
    return {name: table.to_pylist() for name, table in report.figures.items()}


@pytest.mark.all_backends
def test_after_warming_a_reader_computes_nothing_and_a_change_is_warmed_once(
    session: Session, sessions: sessionmaker[Session], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario = seed(session)
    monkeypatch.setattr(Settings, "today", lambda _self: AS_OF)  # the default query reads the scenario's year
    taken = _count_snapshots(monkeypatch)
    warm.warm(sessions, settings)
    assert len(taken) == 1
    warmed = _default(session, settings)
    assert len(taken) == 1  # the reader's request took the warmed figures
    warm.warm(sessions, settings)
    assert len(taken) == 1  # nothing changed: nothing computed

    scenario.deals[2].amount = Decimal(2500)
    session.flush()
    warm.warm(sessions, settings)
    assert len(taken) == 2
    changed = _default(session, settings)
    assert len(taken) == 2 and changed != warmed
    cache.FIGURES.clear()  # computed anew, from nothing, the same figures
    assert _default(session, settings) == changed


def test_the_app_warms_in_the_background_and_keeps_going_after_a_failure(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A database of its own: the warming thread and the requests use connections of their own.
    engine = make_engine(f"sqlite:///{tmp_path / 'warm.db'}")
    migrate(engine)
    with Session(engine) as session:
        seed(session)
        email = make_user(session, Role.PARTNER_MANAGER).email
        # A goal in force today: the overview's plan vs actual computes its period's figures.
        this_month = settings.today().replace(day=1)
        goals.create_goal(
            session, SYSTEM, GoalInput("sourced_revenue", "workspace", "month", this_month, "9")
        )
        session.commit()
    calls: list[str] = []
    warmed = threading.Event()
    real = warm.warm

    def flaky(*args: Any) -> None:
        calls.append("call")
        if len(calls) == 1:
            raise RuntimeError("database away")
        real(*args)
        warmed.set()

    monkeypatch.setattr(warm, "warm", flaky)
    on = settings.model_copy(update={"warm_dashboards": "on", "warm_dashboards_seconds": 0.05})
    try:
        with TestClient(create_app(on, engine), follow_redirects=False) as client:
            assert warmed.wait(timeout=30), calls
            taken = _count_snapshots(monkeypatch)
            sign_in(client, email)
            page = client.get("/dashboards/overview")
            assert page.status_code == 200 and 'id="plan-vs-actual"' in page.text
            assert "No goals for these filters" not in page.text
            assert taken == []  # the page read the warmed figures, its goal's too
        count = len(calls)
        time.sleep(0.2)
        assert len(calls) == count  # stopped with the app
    finally:
        engine.dispose()


def _warming_with_a_goal(session: Session, monkeypatch: pytest.MonkeyPatch) -> Scenario:
    """The scenario as of today, a workspace goal in force this month, and the process warming."""
    scenario = seed(session)
    monkeypatch.setattr(Settings, "today", lambda _self: AS_OF)
    goal = GoalInput("sourced_revenue", "workspace", "month", AS_OF.replace(day=1), "9")
    goals.create_goal(session, SYSTEM, goal)
    session.flush()
    monkeypatch.setattr(cache, "WARMING", threading.Event())
    cache.WARMING.set()
    return scenario


@pytest.mark.all_backends
def test_the_warmer_computes_the_goals_on_new_records_while_a_reader_computes_other_figures_on_them(
    session: Session, sessions: sessionmaker[Session], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Readers take the last figures while anything is computed on their records; the warmer must not, or
    the overview's goals would never be computed on the new records."""
    scenario = _warming_with_a_goal(session, monkeypatch)
    warm.warm(sessions, settings)
    scenario.deals[2].amount = Decimal(2500)
    session.flush()
    new = service.cached_inputs(session, settings, fresh=True).key
    held, release = threading.Event(), threading.Event()

    def reader() -> None:  # a reader's own query, computed on the new records while the warmer runs
        with cache.FIGURES.computing((new, "a reader's query")):
            held.set()
            release.wait(30)

    computing = threading.Thread(target=reader)
    computing.start()
    held.wait()
    try:
        warm.warm(sessions, settings)
    finally:
        release.set()
        computing.join()
    taken = _count_snapshots(monkeypatch)
    (line,) = plan.lines(session, SYSTEM, settings, plan.scope_keys(NO_FILTERS), AS_OF)
    assert taken == [] and line.progress.goal.metric == "sourced_revenue"


@pytest.mark.all_backends
def test_the_warmer_reads_the_records_once_per_round_though_they_change_between_its_queries(
    session: Session, sessions: sessionmaker[Session], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under a stream of writes the version moves between the default query and the goals: reading anew for
    the goals cost a second read per round and left the goals on records the default query was never on."""
    scenario = _warming_with_a_goal(session, monkeypatch)
    reads: list[object] = []
    real_load, real_report = service.load_inputs, service.report

    def load(*args: Any) -> Any:
        reads.append(args)
        return real_load(*args)

    def report_then_write(*args: Any, **kwargs: Any) -> service.Report:
        report = real_report(*args, **kwargs)
        scenario.deals[2].amount += 1  # a write lands after every report
        session.flush()
        return report

    monkeypatch.setattr(service, "load_inputs", load)
    monkeypatch.setattr(service, "report", report_then_write)
    version = warm.warm(sessions, settings)
    assert len(reads) == 1
    key = cache.INPUTS.newest(lambda _key: True)[0]
    assert key[0] == version
    default = service.build_query(AS_OF)
    assert cache.FIGURES.newest(lambda k: k[:2] == (key, default)) is not None
    # The goals' figures are on the records the default query read.
    assert cache.FIGURES.newest(lambda k: k[0] == key and k[1] != default) is not None


def test_test_apps_do_not_warm_unless_asked(settings: Settings) -> None:
    assert not warm.wanted(settings)
    assert warm.wanted(settings.model_copy(update={"warm_dashboards": "on"}))
    assert warm.wanted(settings.model_copy(update={"env": "production", "warm_dashboards": "auto"}))
    assert not warm.wanted(settings.model_copy(update={"env": "production", "warm_dashboards": "off"}))


def _revenue(report: service.Report) -> dict[str, float | None]:
    return {r["classification"]: r["revenue"] for r in report.figures["revenue"].to_pylist()}


def _warming(
    session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch, interval: float
) -> tuple[Settings, Scenario, service.Report]:
    """A process keeping the dashboards warm every `interval` s (WARMING set, as warm_lifespan does while
    its thread runs), the scenario seeded, and a first reader's revenue: the settings, scenario, report."""
    warming = settings.model_copy(update={"warm_dashboards_seconds": interval})
    monkeypatch.setattr(cache, "WARMING", threading.Event())
    cache.WARMING.set()
    scenario = seed(session)
    return warming, scenario, service.report(session, SYSTEM, warming, QUERY, ["revenue"])


def test_while_warming_readers_get_recent_figures_marked_lagging_until_the_warmer_has_read_anew(
    session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    warming, scenario, first = _warming(session, settings, monkeypatch, 60)
    assert not first.lagging and _revenue(first)["influenced"] == 2000.0

    scenario.deals[2].amount = Decimal(2500)
    session.flush()
    lagging = service.report(session, SYSTEM, warming, QUERY, ["revenue"])
    assert lagging.lagging and lagging.read_at == first.read_at and _revenue(lagging)["influenced"] == 2000.0
    warmed = service.report(session, SYSTEM, warming, QUERY, ["revenue"], fresh=True)  # as the warmer asks
    assert not warmed.lagging and _revenue(warmed)["influenced"] == 2500.0
    assert _revenue(service.report(session, SYSTEM, warming, QUERY, ["revenue"]))["influenced"] == 2500.0

    # Records read longer ago than the warmer's interval are not stood for: the reader reads anew.
    scenario.deals[2].amount = Decimal(3000)
    session.flush()
    time.sleep(0.05)
    quick = warming.model_copy(update={"warm_dashboards_seconds": 0.01})
    anew = service.report(session, SYSTEM, quick, QUERY, ["revenue"])
    assert not anew.lagging and _revenue(anew)["influenced"] == 3000.0
    # Where nothing keeps them warm (tests, `warm_dashboards=off`, the CLI), every reader sees a change.
    cache.WARMING.clear()
    scenario.deals[2].amount = Decimal(3500)
    session.flush()
    assert _revenue(service.report(session, SYSTEM, warming, QUERY, ["revenue"]))["influenced"] == 3500.0


def _read_ago(seconds: float) -> None:
    """Make the newest inputs in the cache read `seconds` ago."""
    key, (feed, rules, _read_at) = cache.INPUTS.newest(lambda _key: True)
    cache.INPUTS.put(key, (feed, rules, datetime.now(UTC) - timedelta(seconds=seconds)))


def test_readers_stand_on_records_a_few_intervals_old_or_while_any_newer_are_read(
    session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The warmer comes back an interval after finishing, and by the time a reader asks, the version it
    reads has often moved on: neither gap may send every reader to read the whole workspace itself."""
    interval = 60.0
    warming, scenario, first = _warming(session, settings, monkeypatch, interval)

    def reader_after_a_change(amount: int) -> service.Report:
        scenario.deals[2].amount = Decimal(amount)
        session.flush()
        return service.report(session, SYSTEM, warming, QUERY, ["revenue"])

    _read_ago((service.LAG_INTERVALS - 0.5) * interval)  # past the warmer's interval, within the limit
    assert reader_after_a_change(2500).lagging

    _read_ago((service.LAG_INTERVALS + 0.5) * interval)  # past the limit: read anew
    anew = reader_after_a_change(2600)
    assert not anew.lagging and _revenue(anew)["influenced"] == 2600.0

    # Read long ago but still the current records when a reader came a moment ago: they stand for the next
    # change (after a quiet while, the first change must not send readers to read for themselves).
    _read_ago((service.LAG_INTERVALS + 0.5) * interval)
    assert not service.report(session, SYSTEM, warming, QUERY, ["revenue"]).lagging  # unchanged
    assert reader_after_a_change(2650).lagging

    _read_ago((service.LAG_INTERVALS + 0.5) * interval)
    newest_key, _inputs = cache.INPUTS.newest(lambda _key: True)
    newer = (("another version",), *newest_key[1:])
    with cache.INPUTS.computing(newer):  # the warmer reading a version newer still
        during = reader_after_a_change(2700)
    assert during.lagging and _revenue(during)["influenced"] == 2600.0
    with cache.INPUTS.computing((("another version",), "another database", "USD", "UTC")):
        assert not reader_after_a_change(2800).lagging  # another database's read stands for nothing
    assert first.read_at < anew.read_at


def test_while_the_warmer_computes_new_figures_readers_take_the_last_ones_unless_too_old(
    session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a write the warmer reads the records, then computes the figures on them, which takes as
    long again; readers in that window took the new records and waited for the whole computation."""
    interval = 60.0
    warming, scenario, first = _warming(session, settings, monkeypatch, interval)

    def warmer_reads(amount: int) -> tuple[Any, ...]:
        """A write, and the warmer reading the records it made; their cache key."""
        scenario.deals[2].amount = Decimal(amount)
        session.flush()
        return service.cached_inputs(session, warming, fresh=True).key

    def reader_while_computed(
        key: tuple[Any, ...], names: list[str], release_after: float, computed: service.MetricsQuery = QUERY
    ) -> service.Report:
        """A reader of QUERY while another thread computes `computed`'s figures on `key`'s records for
        `release_after` s."""
        held, release = threading.Event(), threading.Event()

        def warmer() -> None:
            with cache.FIGURES.computing((key, computed)):
                held.set()
                release.wait(release_after)

        computing = threading.Thread(target=warmer)
        computing.start()
        held.wait()
        try:
            return service.report(session, SYSTEM, warming, QUERY, names)
        finally:
            release.set()
            computing.join()

    # The last figures, read a moment ago: taken at once (the warmer would hold the reader for 30 s).
    newer = warmer_reads(2500)
    started = time.monotonic()
    during = reader_while_computed(newer, ["revenue"], release_after=30)
    assert time.monotonic() - started < 10
    assert during.lagging and during.read_at == first.read_at
    assert _revenue(during)["influenced"] == _revenue(first)["influenced"] != 2500.0

    # Read longer ago than the limit: the reader waits for the new figures (here computing them itself).
    key, (feed, rules, _read_at) = cache.INPUTS.newest(lambda key: key != newer)
    long_ago = datetime.now(UTC) - timedelta(seconds=(service.LAG_INTERVALS + 0.5) * interval)
    cache.INPUTS.put(key, (feed, rules, long_ago))
    cache.INPUTS.get(newer)  # the newer records stay the most recently used
    waited = reader_while_computed(newer, ["revenue"], release_after=0.3)
    assert not waited.lagging and _revenue(waited)["influenced"] == 2500.0

    # A figure not computed on the last records: the reader waits for all of them on the new ones.
    partial = reader_while_computed(warmer_reads(2600), ["revenue", "pipeline"], release_after=0.3)
    assert not partial.lagging and _revenue(partial)["influenced"] == 2600.0

    # Nobody computing the figures on records read anew: the reader computes them, though the last ones
    # are young and complete.
    warmer_reads(2700)
    alone = service.report(session, SYSTEM, warming, QUERY, ["revenue"])
    assert not alone.lagging and _revenue(alone)["influenced"] == 2700.0

    # Another query computed on the new records (the warmer on the default query while the reader asks
    # for a goal's) counts too; a computation on other records does not.
    newest = warmer_reads(2800)
    other_query = service.MetricsQuery(AS_OF - timedelta(days=1), QUERY.period)
    assert other_query != QUERY
    beside = reader_while_computed(newest, ["revenue"], release_after=30, computed=other_query)
    assert beside.lagging and beside.read_at == alone.read_at
    assert _revenue(beside)["influenced"] == 2700.0
    older, _ = cache.INPUTS.newest(lambda key: key != newest)
    elsewhere = reader_while_computed(older, ["revenue"], release_after=30)
    assert not elsewhere.lagging and _revenue(elsewhere)["influenced"] == 2800.0
