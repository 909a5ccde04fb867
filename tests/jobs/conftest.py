"""Fixtures for the job queue: a committed database per backend (the worker commits), and kinds of
job whose handlers do what a test tells them, beside the real ones."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from ecoops.audit import AuditEvent
from ecoops.db import session_factory
from ecoops.jobs.kinds import KINDS
from ecoops.jobs.models import Job
from ecoops.jobs.queue import JobRun, Kind, Result
from ecoops.permissions import Permission
from tests.automation.delivery.conftest import committed_engines  # noqa: F401 - a fixture

TEST_KIND = "test.scripted"


@pytest.fixture
def db(committed_engines: dict, backend: str) -> Iterator[sessionmaker[Session]]:  # noqa: F811
    """A session factory on a committed database; jobs and audit rows go after."""
    engine = committed_engines[backend]
    yield session_factory(engine)
    with engine.begin() as connection:
        connection.execute(delete(Job))
        connection.execute(delete(AuditEvent))


class Clock:
    """The queue's clock, a minute ahead of real time (rows committed before are due); moves when told."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC) + timedelta(minutes=1)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@dataclass
class Script:
    """What the scripted kind's handler does on each attempt: raise the next failure, if any, else
    report progress and succeed; `during` runs inside the handler (to look at the row meanwhile)."""

    failures: list[Exception] = field(default_factory=list)
    during: Callable[[JobRun], None] | None = None
    attempts: int = 0

    def __call__(self, run: JobRun) -> Result:
        self.attempts += 1
        run.progress(1, 2, "half way", force=True)
        if self.during is not None:
            self.during(run)
        if self.failures:
            raise self.failures.pop(0)
        run.progress(2, 2, "finishing", force=True)
        return Result(f"did {run.arguments['what']}")


@pytest.fixture
def script(monkeypatch: pytest.MonkeyPatch) -> Script:
    """A kind of job run by a Script, registered for the test beside the real kinds."""
    scripted = Script()
    kind = Kind(
        TEST_KIND,
        "Scripted job",
        scripted,
        read=Permission.READ_MAPPING,
        manage=Permission.MANAGE_MAPPING,
        page=lambda job: "/mapping",
    )
    monkeypatch.setitem(KINDS, TEST_KIND, kind)
    return scripted
