"""SQLite's one writer: transactions wait for the write lock instead of failing, and the web retries
a request that still loses a clash (on either backend) instead of answering 500."""

import sqlite3
import threading
import time

import pytest
from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from ecoops.db import READ_ONLY, is_write_conflict, make_engine, session_factory
from ecoops.web.deps import db, request_transaction, writes_when_read
from ecoops.web.retry import MAX_REPLAY_BYTES, WRITE_FIRST, RetryWriteConflicts
from tests.asgi import post_scope, run_asgi
from tests.impatient_writer import impatient_writer


@pytest.fixture
def file_engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (n INTEGER)"))
    yield engine
    engine.dispose()


def test_a_deferred_reader_that_writes_fails_at_once(file_engine):
    """Why writers begin IMMEDIATE: the failure the busy timeout cannot help (the reason for this module)."""
    with file_engine.connect().execution_options(**READ_ONLY) as reader:
        reader.begin()
        reader.execute(text("SELECT count(*) FROM t")).scalar()
        with file_engine.begin() as writer:
            writer.execute(text("INSERT INTO t VALUES (1)"))
        with pytest.raises(OperationalError) as caught:
            reader.execute(text("INSERT INTO t VALUES (2)"))
        assert is_write_conflict(caught.value)


def test_writers_wait_for_each_other_instead_of_failing(file_engine):
    """Eight writers that each read, pause, then write: every one commits (deferred ones would not)."""
    errors: list[BaseException] = []

    def read_then_write(n: int) -> None:
        try:
            with file_engine.begin() as connection:
                count = connection.execute(text("SELECT count(*) FROM t")).scalar()
                time.sleep(0.02)
                connection.execute(text("INSERT INTO t VALUES (:n)"), {"n": count})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=read_then_write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with file_engine.connect() as connection:
        # Serialised: each writer saw all earlier ones, so the values are 0..7 exactly once.
        assert sorted(connection.execute(text("SELECT n FROM t")).scalars()) == list(range(8))


def _locked() -> OperationalError:
    return OperationalError("UPDATE users", {}, Exception("database is locked"))


def _app(failures: int, seen: list) -> FastAPI:
    app = FastAPI()
    left = [failures]

    @app.post("/write")
    def write(request: Request, note: str = Form(...)) -> dict:
        seen.append((note, bool(request.scope.get("state", {}).get(WRITE_FIRST))))
        if left[0]:
            left[0] -= 1
            raise _locked()
        return {"note": note}

    @app.post("/raw")
    async def raw(request: Request) -> dict:
        seen.append(len(await request.body()))
        raise _locked()

    @app.post("/broken")
    def broken() -> dict:
        raise ValueError("not a conflict")

    app.add_middleware(RetryWriteConflicts)
    return app


def test_a_request_that_lost_a_clash_is_run_again_with_its_body():
    seen: list = []
    with TestClient(_app(2, seen)) as client:
        response = client.post("/write", data={"note": "kept"})
    assert response.status_code == 200 and response.json() == {"note": "kept"}
    # The body reached every attempt; retries ask for the write lock from the start.
    assert seen == [("kept", False), ("kept", True), ("kept", True)]


def test_retries_are_bounded_and_other_errors_are_not_retried():
    seen: list = []
    with TestClient(_app(10, seen), raise_server_exceptions=False) as client:
        assert client.post("/write", data={"note": "x"}).status_code == 500
        assert len(seen) == 4
        assert client.post("/broken").status_code == 500


def test_a_large_body_is_passed_through_once_unbuffered():
    seen: list = []
    with TestClient(_app(1, seen), raise_server_exceptions=False) as client:
        assert client.post("/raw", content=b"x" * (MAX_REPLAY_BYTES + 1)).status_code == 500
        assert seen == [MAX_REPLAY_BYTES + 1]
        seen.clear()
        assert client.post("/raw", content=b"x" * MAX_REPLAY_BYTES).status_code == 500
        assert seen == [MAX_REPLAY_BYTES] * 4  # at the cap: still replayed


def _post_without_length(app: FastAPI, chunks: list[bytes]) -> None:
    """POST /raw as chunks with neither Content-Length nor Transfer-Encoding (no header promises a size)."""
    messages = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)
    ]

    async def receive() -> dict:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(_message: dict) -> None:
        pass

    scope = post_scope("/raw")
    with pytest.raises(OperationalError):
        run_asgi(app, scope, receive, send)


def test_a_body_without_length_headers_is_buffered_only_up_to_the_cap():
    seen: list = []
    half = MAX_REPLAY_BYTES // 2
    _post_without_length(_app(0, seen), [b"x" * half, b"x" * half])
    assert seen == [MAX_REPLAY_BYTES] * 4  # within the cap: replayed
    seen.clear()
    _post_without_length(_app(0, seen), [b"x" * half, b"x" * half, b"x"])
    assert seen == [MAX_REPLAY_BYTES + 1]  # past it: passed through once, every byte kept


def _reading_app(engine, attempts: list, mark: bool) -> FastAPI:
    """GET /note reads, lets another connection try a short write, then writes itself."""
    router = APIRouter(dependencies=[Depends(request_transaction)])

    def note(request: Request, session: Session = Depends(db)) -> dict:
        attempts.append(bool(request.scope.get("state", {}).get(WRITE_FIRST)))
        session.execute(text("SELECT count(*) FROM t")).scalar()
        try:
            with impatient_writer(engine) as other:
                other.execute("INSERT INTO t VALUES (0)")
            other_wrote = True
        except sqlite3.OperationalError:
            other_wrote = False
        session.execute(text("INSERT INTO t VALUES (1)"))
        return {"other_wrote": other_wrote}

    router.get("/note")(writes_when_read(note) if mark else note)
    app = FastAPI()
    app.include_router(router)
    app.state.sessions = session_factory(engine)
    app.add_middleware(RetryWriteConflicts)
    return app


def test_a_get_that_always_writes_takes_the_lock_first_instead_of_clashing(file_engine):
    attempts: list = []
    with TestClient(_reading_app(file_engine, attempts, mark=False)) as client:
        # Unmarked: the read lets the other write in, its own write then clashes and is retried
        # with the lock from the start, when the other write cannot get in.
        assert client.get("/note").json() == {"other_wrote": False}
    assert attempts == [False, True]
    with file_engine.connect() as connection:
        assert sorted(connection.execute(text("SELECT n FROM t")).scalars()) == [0, 1]
    attempts.clear()
    with TestClient(_reading_app(file_engine, attempts, mark=True)) as client:
        assert client.get("/note").json() == {"other_wrote": False}
    assert attempts == [False]  # locked from the start: one attempt, and no other writer got in
    with file_engine.connect() as connection:
        assert sorted(connection.execute(text("SELECT n FROM t")).scalars()) == [0, 1, 1]


def test_postgres_conflicts_are_recognised():
    class Deadlock(Exception):
        sqlstate = "40P01"

    class Unique(Exception):
        sqlstate = "23505"

    assert is_write_conflict(OperationalError("x", {}, Deadlock()))
    assert not is_write_conflict(OperationalError("x", {}, Unique()))
    assert not is_write_conflict(ValueError("database is locked"))
