"""The dashboards' cache: an unchanged request reuses the figures; any change to the records shows at once."""

from __future__ import annotations

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from ecoops import audit
from ecoops.accounts.service import user_actor
from ecoops.actors import SYSTEM
from ecoops.config import Settings
from ecoops.crm.models import Opportunity
from ecoops.data_version import READ_TABLES, UNRELATED_ACTIONS, data_version, generation
from ecoops.db import READ_ONLY, session_factory, transaction
from ecoops.lru import LRU
from ecoops.metrics import service
from ecoops.metrics.feed import load_inputs
from ecoops.partners.models import Partner
from tests.factories import make_partner, make_user
from tests.metrics.scenario import seed
from tests.metrics.test_service import QUERY

pytestmark = pytest.mark.all_backends


def _revenue(session: Session, settings: Settings) -> dict[str, float | None]:
    table = service.report(session, SYSTEM, settings, QUERY, ["revenue"]).figures["revenue"]
    return {r["classification"]: r["revenue"] for r in table.to_pylist()}


def test_an_unchanged_request_reuses_the_inputs_and_the_figures(
    session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(session)
    first = service.report(session, SYSTEM, settings, QUERY, ["revenue", "pipeline"])
    loads: list[object] = []
    monkeypatch.setattr(service, "load_inputs", lambda *a: loads.append(a) or load_inputs(*a))
    again = service.report(session, SYSTEM, settings, QUERY, ["pipeline", "revenue"])
    assert again.figures["revenue"] is first.figures["revenue"]
    assert again.figures["pipeline"] is first.figures["pipeline"]
    # Another figure of the same records is computed, from the inputs already fed.
    assert service.report(session, SYSTEM, settings, QUERY, ["overlays"]).figures["overlays"].num_rows == 3
    assert loads == []
    rows = service.records(session, SYSTEM, settings, QUERY, "revenue", "influenced")
    assert service.records(session, SYSTEM, settings, QUERY, "revenue", "influenced") is rows


def test_a_change_in_place_shows_in_the_next_figure(session: Session, settings: Settings) -> None:
    scenario = seed(session)
    assert _revenue(session, settings) == {"sourced": 4000.0, "influenced": 2000.0}
    scenario.deals[2].amount = Decimal(2500)
    session.flush()
    assert _revenue(session, settings)["influenced"] == 2500.0
    # A bulk statement through the session changes them too.
    session.execute(update(Opportunity).where(Opportunity.id == scenario.deals[2].id).values(amount=10))
    assert _revenue(session, settings)["influenced"] == 10.0


# Another process: a Core insert on its session's connection (as the import's upsert), no ORM event, no audit.
_WRITE_ELSEWHERE = """
import sys
from datetime import date
from sqlalchemy import insert
from sqlalchemy.orm import Session
from ecoops.attribution.models import PartnerTouch
from ecoops.db import make_engine
with Session(make_engine(sys.argv[1])) as session:
    session.connection().execute(insert(PartnerTouch).values(
        partner_id=int(sys.argv[2]), opportunity_crm_id=sys.argv[3], account_crm_id="A2", kind="co_sell",
        touched_on=date(2025, 2, 2), status="confirmed", evidence_type="user", evidence_ref="1",
        recorded_by="",
    ))
    session.commit()
"""


def test_a_row_committed_by_another_process_shows_through_the_data_version(
    committed_engine: Engine, settings: Settings
) -> None:
    sessions = session_factory(committed_engine)
    with sessions() as session:
        scenario = seed(session)
        session.commit()
    with sessions() as session:
        assert _revenue(session, settings)["influenced"] == 2000.0
        before = data_version(session)
    url = committed_engine.url.render_as_string(hide_password=False)
    subprocess.run(
        [sys.executable, "-c", _WRITE_ELSEWHERE, url, str(scenario.beta.id), scenario.deals[2].crm_id],
        check=True,
    )
    with sessions() as session:
        after = data_version(session)
        assert after == (before[0], before[1] + 1)  # not this process's doing: the stored version moved
        linear = service.report(session, SYSTEM, settings, QUERY, ["attribution"]).figures["attribution"]
    credit = {r["partner"]: r["attributed_revenue"] for r in linear.to_pylist() if r["model"] == "linear"}
    assert credit["Beta Co"] == 1000.0 + 1000.0  # its own sourced deal 1, and half of deal 2 now


def _stored_version(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        session.connection(execution_options=READ_ONLY)  # beside a writer on SQLite too
        return data_version(session)[1]


def test_what_moves_the_stored_version_and_what_does_not(committed_engine: Engine) -> None:
    sessions = session_factory(committed_engine)
    with sessions() as session:
        actor = user_actor(make_user(session))
        session.commit()
    start = _stored_version(sessions)
    with sessions() as session:  # sign-ins, tokens: audited, but not what the dashboards read
        for action in UNRELATED_ACTIONS:
            audit.record(session, actor, action, "user", actor.id)
        session.commit()
    with sessions() as session:  # a read and its commit
        session.execute(select(Partner)).all()
        session.commit()
    before_generation = generation()
    with sessions() as session:  # a change rolled back: the stored version stays, this process's moves
        make_partner(session, name="Gone Co")
        session.flush()
        session.rollback()
    assert _stored_version(sessions) == start and generation() > before_generation
    with sessions() as session:  # a change audited, committed
        audit.record(session, actor, "partner.updated", "partner", 1)
        session.commit()
    assert _stored_version(sessions) == start + 1
    with sessions() as session:  # an ORM change left for the commit to flush
        make_partner(session, name="Kept Co")
        session.commit()
    assert _stored_version(sessions) == start + 2
    with sessions() as session:  # savepoints: the outermost commit moves it, once
        for name in ("One Co", "Two Co"):
            with session.begin_nested():
                make_partner(session, name=name)
        assert _stored_version(sessions) == start + 2
        session.commit()
    assert _stored_version(sessions) == start + 3


def test_commits_at_once_each_move_the_version_once(committed_engine: Engine) -> None:
    sessions = session_factory(committed_engine)
    start = _stored_version(sessions)

    def add(n: int) -> None:
        for k in range(5):
            with transaction(sessions) as session:
                make_partner(session, name=f"Partner {n}-{k}")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(add, range(8)))
    assert _stored_version(sessions) == start + 40


def test_the_cache_is_bounded() -> None:
    lru: LRU[int] = LRU(2)
    for n in range(5):
        lru.put(n, n)
    assert len(lru) == 2 and lru.get(0) is None and lru.get(4) == 4
    lru.get(3)
    lru.put(5, 5)
    assert lru.get(4) is None and lru.get(3) == 3


def test_a_missing_entry_is_computed_once_however_many_ask_at_once() -> None:
    lru: LRU[int] = LRU(4)
    calls: list[int] = []

    def slow() -> int:
        calls.append(1)
        time.sleep(0.2)  # long enough for every other thread to ask meanwhile
        return 42

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: lru.get_or_compute("k", slow), range(8)))
    assert answers == [42] * 8 and len(calls) == 1
    assert lru._flights == {}  # nothing left behind

    # A computation that fails leaves the entry missing: the next one that asks computes it.
    def failing() -> int:
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        lru.get_or_compute("other", failing)
    assert lru.get_or_compute("other", lambda: 7) == 7 and lru._flights == {}


def test_sign_ins_and_tokens_leave_the_data_version_alone(session: Session) -> None:
    seed(session)
    actor = user_actor(make_user(session))
    before = data_version(session)
    for action in UNRELATED_ACTIONS:
        audit.record(session, actor, action, "user", actor.id)
    session.flush()
    assert data_version(session) == before
    audit.record(session, actor, "partner.updated", "partner", 1)  # a change in place is audited
    session.flush()
    assert data_version(session) != before


def test_the_read_tables_are_the_tables_the_feed_reads() -> None:
    from ecoops.attribution.models import PartnerTouch
    from ecoops.crm.models import OpportunityStageChange
    from ecoops.schema import metadata

    assert set(metadata.tables) >= READ_TABLES
    assert {
        Opportunity.__tablename__,
        OpportunityStageChange.__tablename__,
        PartnerTouch.__tablename__,
    } <= READ_TABLES


def test_the_filter_choices_are_read_once_while_unchanged_and_follow_every_change(session: Session) -> None:
    manager = make_user(session, name="Olivia Chen")
    acme = make_partner(session, name="Acme", owner_id=manager.id)
    first = service.filter_options(session, SYSTEM)
    assert (acme.id, "Acme") in first.partners
    assert service.filter_options(session, SYSTEM).partners is first.partners  # from the cache
    borealis = make_partner(session, name="Borealis", partner_type="reseller")  # moves the data version
    after = service.filter_options(session, SYSTEM)
    assert [p for p in after.partners if p[1] in ("Acme", "Borealis")] == [
        (acme.id, "Acme"),
        (borealis.id, "Borealis"),
    ]
    assert "reseller" in after.types
    # Renaming a user does not move the data version: the managers' names are read each time.
    version = data_version(session)
    manager.name = "Olivia Brown"
    session.flush()
    assert data_version(session) == version
    assert service.filter_options(session, SYSTEM).owners == [(manager.id, "Olivia Brown")]
