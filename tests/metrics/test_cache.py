"""The dashboards' cache: an unchanged request reuses the figures; any change to the records shows at once."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.accounts.service import user_actor
from ecoops.actors import SYSTEM
from ecoops.attribution.models import PartnerTouch
from ecoops.config import Settings
from ecoops.crm.models import Opportunity
from ecoops.metrics import cache, service
from ecoops.metrics.feed import load_inputs
from tests.factories import make_user
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


def test_a_row_written_outside_this_process_shows_through_the_data_version(
    session: Session, settings: Settings
) -> None:
    scenario = seed(session)
    assert _revenue(session, settings)["influenced"] == 2000.0
    before = cache.data_version(session)
    # A plain connection-level insert, as another process would write it: no ORM event sees it.
    session.connection().execute(
        insert(PartnerTouch).values(
            partner_id=scenario.beta.id,
            opportunity_crm_id=scenario.deals[2].crm_id,
            account_crm_id="A2",
            kind="co_sell",
            touched_on=date(2025, 2, 2),
            status="confirmed",
            evidence_type="user",
            evidence_ref="1",
            recorded_by="",
        )
    )
    after = cache.data_version(session)
    assert after[0] == before[0] and after != before
    linear = service.report(session, SYSTEM, settings, QUERY, ["attribution"]).figures["attribution"]
    credit = {r["partner"]: r["attributed_revenue"] for r in linear.to_pylist() if r["model"] == "linear"}
    assert credit["Beta Co"] == 1000.0 + 1000.0  # its own sourced deal 1, and half of deal 2 now


def test_the_cache_is_bounded() -> None:
    lru: cache.LRU[int] = cache.LRU(2)
    for n in range(5):
        lru.put(n, n)
    assert len(lru) == 2 and lru.get(0) is None and lru.get(4) == 4
    lru.get(3)
    lru.put(5, 5)
    assert lru.get(4) is None and lru.get(3) == 3


def test_a_missing_entry_is_computed_once_however_many_ask_at_once() -> None:
    lru: cache.LRU[int] = cache.LRU(4)
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
    before = cache.data_version(session)
    for action in cache.UNRELATED_ACTIONS:
        audit.record(session, actor, action, "user", actor.id)
    session.flush()
    assert cache.data_version(session) == before
    audit.record(session, actor, "partner.updated", "partner", 1)  # a change in place is audited
    session.flush()
    assert cache.data_version(session) != before
