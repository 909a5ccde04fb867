"""The initiator refuses a peer's bad answers with a clear error recorded on the exchange: a real
loopback HTTP server stands in for a broken or malicious ecoops."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select
from tests.psi.conftest import Instance

from ecoops.db import transaction
from ecoops.engines.psi import Item, Party, new_session_id
from ecoops.psi import exchange
from ecoops.psi.models import ConnectionState, PsiConnection, PsiExchange

Answer = Callable[[bytes, dict[str, str]], tuple[int, bytes]]


@pytest.fixture
def fake_peer() -> Iterator[tuple[str, list[Answer]]]:
    """A server answering /psi/v1/exchange/start with whatever the test's `answer` returns."""
    answers: list[Answer] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            status, reply = answers[0](body, {k.lower(): v for k, v in self.headers.items()})
            self.send_response(status)
            self.send_header("content-type", "application/octet-stream")
            self.send_header("content-length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *_args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", answers
    server.shutdown()
    thread.join(timeout=5)


def _connect_to(instance: Instance, url: str) -> int:
    with transaction(instance.sessions) as session:
        for old in session.scalars(select(PsiConnection)):
            old.state = ConnectionState.REVOKED.value
        connection = PsiConnection(
            partner_id=instance.partner_id,
            state=ConnectionState.ACTIVE.value,
            peer_url=url,
            outbound_token=secrets.token_urlsafe(32),
            ref_key=secrets.token_hex(32),
            interval_hours=0,
        )
        session.add(connection)
        session.flush()
        return connection.id


def _truncated_reply(body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    responder = Party(
        [Item("y", ("d:example.org",))],
        session_id=bytes.fromhex(headers["x-psi-session"]),
        role="responder",
        mode="count",
    )
    return 200, responder.step2(body)[:-3]


def _reply_from_another_session(body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    other = Party(
        [Item("y", ("d:example.org",))], session_id=new_session_id(), role="responder", mode="count"
    )
    mine = Party([Item("z", ("d:example.net",))], session_id=other.session_id, role="initiator", mode="count")
    return 200, other.step2(mine.step1())


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (lambda body, headers: (200, b"not a protocol message"), "MalformedMessage"),
        (lambda body, headers: (200, body), "UnexpectedStep"),
        (_truncated_reply, "MalformedMessage"),
        (_reply_from_another_session, "SessionMismatch"),
        (lambda body, headers: (500, b"oops"), "refused (500)"),
    ],
    ids=["garbage", "our own message echoed", "truncated", "another session", "server error"],
)
def test_a_bad_answer_fails_the_exchange_with_a_clear_error(
    pair: tuple[Instance, Instance], fake_peer: tuple[str, list[Answer]], answer: Answer, error: str
) -> None:
    alpha, _ = pair
    url, answers = fake_peer
    answers.append(answer)
    connection_id = _connect_to(alpha, url)
    outcomes = exchange.run_exchanges(alpha.sessions, alpha.settings, connection_id)
    assert [(o.mode, o.status) for o in outcomes] == [("count", "failed")]
    assert error in outcomes[0].error
    with alpha.sessions() as session:
        stored = session.scalars(select(PsiExchange).where(PsiExchange.connection_id == connection_id)).one()
        assert (stored.status, stored.matches, stored.counts) == ("failed", 0, [])
        assert error in stored.error and stored.bytes_sent > 0
