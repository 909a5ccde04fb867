"""The responder's stored Party is taken by one process only: a second message 3 that read the state
before the first taker committed finds it gone (PostgreSQL's read-committed lets both read it)."""

from __future__ import annotations

import secrets
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.conftest import fresh_postgres_database
from tests.factories import make_partner

from ecoops.audit import utcnow
from ecoops.db import make_engine, migrate, session_factory, transaction
from ecoops.engines.psi import Item, Party, new_session_id
from ecoops.psi import exchange
from ecoops.psi.models import ConnectionState, PsiConnection, PsiExchange, PsiPartyState

ITEMS = [Item("x", ("d:example.org",))]


def _connection(session: Session) -> int:
    connection = PsiConnection(
        partner_id=make_partner(session).id, state=ConnectionState.ACTIVE.value, ref_key=secrets.token_hex(32)
    )
    session.add(connection)
    session.flush()
    return connection.id


def _kept(session: Session, connection_id: int, items: list[Item]) -> tuple[int, str]:
    """A responder's exchange after message 2, its Party stored; its id and session id."""
    session_id = new_session_id()
    row = PsiExchange(
        connection_id=connection_id, session_id=session_id.hex(), role="responder", mode="count"
    )
    session.add(row)
    session.flush()
    party = Party(items, session_id=session_id, role="responder", mode="count")
    exchange._keep_party(session, row.id, party, {"customers": "customers"}, ttl=60)
    return row.id, session_id.hex()


@pytest.mark.all_backends
def test_a_second_taker_that_read_the_state_first_gets_nothing(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'state.db'}"
    else:
        url = fresh_postgres_database(request.getfixturevalue("postgres_admin_url"))
    engine = make_engine(url)
    migrate(engine)
    sessions = session_factory(engine)
    with transaction(sessions) as session:
        connection_id = _connection(session)
        _, session_id = _kept(session, connection_id, ITEMS)

    first = sessions()
    first.begin()
    taken_first = exchange._take_party(first, connection_id, session_id)  # deleted, not committed yet
    assert taken_first is not None and taken_first.population_keys == {"customers": "customers"}
    second: list[object] = []

    def take_second() -> None:
        with transaction(sessions) as session:
            second.append(exchange._take_party(session, connection_id, session_id))

    thread = threading.Thread(target=take_second)
    thread.start()
    time.sleep(1)  # the second reads the state, then waits on the first's delete (or its write lock)
    first.commit()
    first.close()
    thread.join(timeout=30)
    assert second == [None]
    engine.dispose()


def test_an_expired_state_is_dropped_when_another_is_kept(session: Session) -> None:
    connection_id = _connection(session)
    expired, alive = (_kept(session, connection_id, ITEMS) for _ in range(2))
    session.get_one(PsiPartyState, expired[0]).expires_at = utcnow() - timedelta(seconds=1)
    session.flush()
    third, _ = _kept(session, connection_id, [])
    assert sorted(session.scalars(select(PsiPartyState.exchange_id))) == [alive[0], third]
    assert exchange._take_party(session, connection_id, expired[1]) is None
    assert exchange._take_party(session, connection_id, alive[1]) is not None
