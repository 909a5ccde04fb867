"""The exchange between two ecoops servers: we run the four steps as initiator (a job the worker
runs, queued by hand or on the connection's schedule), or answer them as responder through /psi/v1.

One run is two exchanges, each with a fresh session id and fresh secrets: counts first (every
population the partner may see, counts per population pair), then reveal (only populations whose
rule shows overlapping accounts). Both sides store what they learnt at the end of each exchange.

The responder keeps its Party between message 1 and message 3 in the database (`PsiPartyState`), so
message 3 may reach any web process; a state that expired (the initiator took too long) is refused at
message 3 and the initiator's next run starts over.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ecoops import audit
from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor, ActorKind, Role
from ecoops.audit import utcnow
from ecoops.config import Settings
from ecoops.db import transaction
from ecoops.engines.psi import Party, PsiError, new_session_id
from ecoops.engines.psi.party import Mode
from ecoops.jobs.models import Job
from ecoops.jobs.names import EXCHANGE, exchange_subject
from ecoops.jobs.queue import active_job, enqueue
from ecoops.psi import transport
from ecoops.psi.connections import aware, revoked_by_peer
from ecoops.psi.items import our_side
from ecoops.psi.models import ConnectionState, ExchangeStatus, PsiConnection, PsiExchange, PsiPartyState
from ecoops.psi.results import store_counts, store_reveal

MODES: dict[str, Mode] = {"count": "count", "reveal": "reveal"}  # run in this order
START_PATH = "/psi/v1/exchange/start"
FINISH_PATH = "/psi/v1/exchange/finish"
SESSION_HEADER = "x-psi-session"
MODE_HEADER = "x-psi-mode"
STALE_RUN = timedelta(hours=1)  # a run still "running" after this is taken as dead


_REPLAYED = "this session id was used before: a replayed exchange is refused"


class ExchangeRefused(Exception):
    """A peer's message cannot be answered (unknown or replayed session, bad mode); says why."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def exchange_actor(connection: PsiConnection) -> Actor:
    return Actor(
        kind=ActorKind.SYSTEM,
        id=None,
        label=f"private exchange with {connection.peer_url}"[:200],
        role=Role.ADMIN,
    )


@dataclass(frozen=True)
class Outcome:
    mode: str
    status: str
    matches: int
    error: str = ""


# -- initiator -------------------------------------------------------------------------------------
def run_exchanges(
    sessions: sessionmaker[Session],
    settings: Settings,
    connection_id: int,
    on_step: Callable[[int, str], None] | None = None,
) -> list[Outcome]:
    """Run the counts and then the reveal exchange over a connection, each in its own transactions;
    `on_step(steps done, mode)` hears before each, between transactions."""
    outcomes = []
    for done, mode in enumerate(MODES.values()):
        if on_step is not None:
            on_step(done, mode)
        outcome = _run_one(sessions, settings, connection_id, mode)
        outcomes.append(outcome)
        if outcome.status != ExchangeStatus.DONE:
            break
    with transaction(sessions) as session:
        connection = session.get(PsiConnection, connection_id)
        if (
            connection is not None
            and connection.state == ConnectionState.ACTIVE
            and connection.interval_hours
        ):
            connection.next_exchange_at = utcnow() + timedelta(hours=connection.interval_hours)
    return outcomes


def _run_one(sessions: sessionmaker[Session], settings: Settings, connection_id: int, mode: Mode) -> Outcome:
    session_id = new_session_id()
    with transaction(sessions) as session:
        connection = session.get(PsiConnection, connection_id)
        if connection is None or connection.state != ConnectionState.ACTIVE:
            raise InvalidInput("no active connection to run an exchange over")
        ours = our_side(session, connection.partner_id, connection.ref_key, mode)
        exchange = PsiExchange(
            connection_id=connection.id,
            session_id=session_id.hex(),
            role="initiator",
            mode=mode,
            our_items=len(ours.items),
            started_at=utcnow(),
        )
        session.add(exchange)
        session.flush()
        exchange_id, peer_url, token = exchange.id, connection.peer_url, connection.outbound_token
    sent = received = 0
    headers = {SESSION_HEADER: session_id.hex(), MODE_HEADER: mode}
    try:
        party = Party(
            ours.items, session_id=session_id, role="initiator", mode=mode, max_items=settings.psi_max_items
        )
        message = party.step1()
        sent += len(message)
        reply = transport.post(settings, peer_url, START_PATH, token=token, content=message, headers=headers)
        received += len(reply.content)
        message = party.step3(reply.content)
        sent += len(message)
        reply = transport.post(settings, peer_url, FINISH_PATH, token=token, content=message, headers=headers)
        received += len(reply.content)
        party.finish(reply.content)
    except Exception as exc:  # recorded on the exchange; only the expected kinds are not raised on
        expected = isinstance(exc, PsiError | transport.PeerError | InvalidInput)
        error = (
            str(exc)
            if isinstance(exc, transport.PeerError | InvalidInput)
            else f"{type(exc).__name__}: {exc}"
        )
        with transaction(sessions) as session:
            exchange = session.get_one(PsiExchange, exchange_id)
            _fail(exchange, error, sent, received)
            connection = session.get_one(PsiConnection, connection_id)
            if isinstance(exc, transport.PeerRevoked):
                revoked_by_peer(session, connection)
            audit.record(
                session,
                exchange_actor(connection),
                "psi.exchange_failed",
                "partner",
                connection.partner_id,
                exchange_id=exchange_id,
                mode=mode,
                error=error[:500],
            )
        if not expected:
            raise
        return Outcome(mode, ExchangeStatus.FAILED.value, 0, error)
    with transaction(sessions) as session:
        exchange = session.get_one(PsiExchange, exchange_id)
        connection = session.get_one(PsiConnection, connection_id)
        exchange.bytes_sent, exchange.bytes_received = sent, received
        matches = record_result(session, settings, connection, exchange, party, ours.population_keys)
    return Outcome(mode, ExchangeStatus.DONE.value, matches)


def _fail(exchange: PsiExchange, error: str, sent: int, received: int) -> None:
    exchange.status = ExchangeStatus.FAILED.value
    exchange.error = error[:2000]
    exchange.finished_at = utcnow()
    exchange.bytes_sent, exchange.bytes_received = sent, received


def record_result(
    session: Session,
    settings: Settings,
    connection: PsiConnection,
    exchange: PsiExchange,
    party: Party,
    population_keys: dict[str, str],
) -> int:
    """Store what a finished Party learnt (either role) and close the exchange; the matches."""
    actor = exchange_actor(connection)
    if exchange.mode == "count":
        matches = store_counts(exchange, party.result.counts, population_keys)
    else:
        matches = store_reveal(session, actor, connection, exchange, party.result.matches, settings.today())
    exchange.status = ExchangeStatus.DONE.value
    exchange.matches = matches
    exchange.finished_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor,
        "psi.exchange_completed",
        "partner",
        connection.partner_id,
        exchange_id=exchange.id,
        role=exchange.role,
        mode=exchange.mode,
        matches=matches,
        bytes_sent=exchange.bytes_sent,
        bytes_received=exchange.bytes_received,
    )
    return matches


def is_running(session: Session, connection_id: int) -> bool:
    """An exchange of ours over the connection started less than STALE_RUN ago and not finished."""
    started = session.scalar(
        select(PsiExchange.started_at)
        .where(
            PsiExchange.connection_id == connection_id,
            PsiExchange.role == "initiator",
            PsiExchange.status == ExchangeStatus.RUNNING.value,
        )
        .order_by(PsiExchange.id.desc())
        .limit(1)
    )
    return started is not None and aware(started) > utcnow() - STALE_RUN


def start_due_exchanges(session: Session, settings: Settings, now: datetime) -> int:
    """Worker tick job: queue a run (a job, jobs/kinds.py) for each active connection whose time has
    come and that has none queued or running. Their next time is set first, so the next tick does not
    queue them again."""
    due = session.scalars(
        select(PsiConnection)
        .where(
            PsiConnection.state == ConnectionState.ACTIVE.value,
            PsiConnection.interval_hours > 0,
            PsiConnection.next_exchange_at <= now,
        )
        .with_for_update(skip_locked=True)  # several workers on PostgreSQL: one queues each run
    ).all()
    queued = 0
    for connection in due:
        connection.next_exchange_at = now + timedelta(hours=connection.interval_hours)
        if queue_run(session, exchange_actor(connection), connection) is not None:
            queued += 1
    session.flush()
    return queued


def queue_run(session: Session, actor: Actor, connection: PsiConnection) -> Job | None:
    """Queue a run over `connection` in the caller's transaction; None when one is already under way."""
    subject = exchange_subject(connection.partner_id)
    if active_job(session, subject) is not None or is_running(session, connection.id):
        return None
    return enqueue(
        session,
        actor,
        EXCHANGE,
        subject=subject,
        arguments={"connection_id": connection.id},
        partner_id=connection.partner_id,
    )


# -- responder -------------------------------------------------------------------------------------
@dataclass
class Waiting:
    party: Party
    exchange_id: int
    population_keys: dict[str, str]


def _keep_party(session: Session, exchange_id: int, party: Party, keys: dict[str, str], ttl: float) -> None:
    """Store the responder's Party until message 3, dropping states that expired meanwhile."""
    now = utcnow()
    session.execute(delete(PsiPartyState).where(PsiPartyState.expires_at <= now))
    session.add(
        PsiPartyState(
            exchange_id=exchange_id,
            state=party.save_state(),
            population_keys=keys,
            expires_at=now + timedelta(seconds=ttl),
        )
    )


def _take_party(session: Session, connection_id: int, session_id: str) -> Waiting | None:
    """The Party waiting for message 3 under this session id, removed so that only one process
    answers it (a second, concurrent message 3 finds nothing); None when none is or it expired."""
    found = session.execute(
        select(PsiPartyState)
        .join(PsiExchange, PsiExchange.id == PsiPartyState.exchange_id)
        .where(PsiExchange.connection_id == connection_id, PsiExchange.session_id == session_id)
    ).scalar_one_or_none()
    if found is None:
        return None
    exchange_id, state, keys, expires = (
        found.exchange_id,
        found.state,
        found.population_keys,
        found.expires_at,
    )
    session.expunge(found)
    taken = session.execute(delete(PsiPartyState).where(PsiPartyState.exchange_id == exchange_id))
    if taken.rowcount != 1 or aware(expires) <= utcnow():  # type: ignore[attr-defined]
        return None
    return Waiting(Party.load_state(state), exchange_id, dict(keys))


def _session_id(raw: str | None) -> bytes:
    try:
        session_id = bytes.fromhex(raw or "")
    except ValueError:
        session_id = b""
    if len(session_id) != 16:
        raise ExchangeRefused(f"the {SESSION_HEADER} header must be 32 hex digits (a 16-byte session id)")
    return session_id


def respond_start(
    sessions: sessionmaker[Session],
    settings: Settings,
    connection_id: int,
    session_header: str | None,
    mode: str | None,
    message: bytes,
) -> bytes:
    """Message 1 in, message 2 out; the exchange is recorded (a session id is accepted once).

    The work runs between short transactions of its own, not in one held for the whole step: on
    SQLite a transaction that read before a long computation could not write after it."""
    session_id = _session_id(session_header)
    if mode not in MODES:
        raise ExchangeRefused(f"the {MODE_HEADER} header must be one of {', '.join(MODES)}")
    with transaction(sessions) as session:
        if session.scalar(select(PsiExchange.id).where(PsiExchange.session_id == session_id.hex())):
            raise ExchangeRefused(_REPLAYED, 409)
        connection = session.get_one(PsiConnection, connection_id)
        ours = our_side(session, connection.partner_id, connection.ref_key, mode)
    exchange = PsiExchange(
        connection_id=connection_id,
        session_id=session_id.hex(),
        role="responder",
        mode=mode,
        our_items=len(ours.items),
        bytes_received=len(message),
        started_at=utcnow(),
    )
    refusal: PsiError | None = None
    try:
        party = Party(
            ours.items,
            session_id=session_id,
            role="responder",
            mode=MODES[mode],
            max_items=settings.psi_max_items,
        )
        reply = party.step2(message)
        exchange.bytes_sent = len(reply)
    except PsiError as exc:
        refusal = exc
        _fail(exchange, f"{type(exc).__name__}: {exc}", 0, len(message))
    try:
        with transaction(sessions) as session:
            session.add(exchange)
            session.flush()
            if refusal is None:
                ttl = settings.psi_timeout_seconds * 2
                _keep_party(session, exchange.id, party, ours.population_keys, ttl)
    except IntegrityError:  # the same session id, started meanwhile
        raise ExchangeRefused(_REPLAYED, 409) from None
    if refusal is not None:
        raise refusal
    return reply


def respond_finish(
    sessions: sessionmaker[Session],
    settings: Settings,
    connection_id: int,
    session_header: str | None,
    message: bytes,
) -> bytes:
    """Message 3 in, message 4 out; what we learnt is stored before the answer goes back."""
    session_id = _session_id(session_header)
    with transaction(sessions) as session:
        waiting = _take_party(session, connection_id, session_id.hex())
    if waiting is None:
        with transaction(sessions) as session:
            status = session.scalar(
                select(PsiExchange.status).where(
                    PsiExchange.session_id == session_id.hex(), PsiExchange.connection_id == connection_id
                )
            )
        if status is not None and status != ExchangeStatus.RUNNING:
            raise ExchangeRefused("this exchange is over: a replayed message 3 is refused", 409)
        raise ExchangeRefused("no exchange is waiting for message 3 under this session id (expired?)", 409)
    try:
        reply = waiting.party.step4(message)
    except PsiError as exc:
        with transaction(sessions) as session:
            exchange = session.get_one(PsiExchange, waiting.exchange_id)
            _fail(
                exchange,
                f"{type(exc).__name__}: {exc}",
                exchange.bytes_sent,
                exchange.bytes_received + len(message),
            )
        raise
    with transaction(sessions) as session:
        exchange = session.get_one(PsiExchange, waiting.exchange_id)
        exchange.bytes_received += len(message)
        exchange.bytes_sent += len(reply)
        connection = session.get_one(PsiConnection, connection_id)
        record_result(session, settings, connection, exchange, waiting.party, waiting.population_keys)
    return reply
