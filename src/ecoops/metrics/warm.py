"""Dashboards kept warm: a thread of each web process computes the default dashboards whenever the
records change, so that the people opening them read a finished snapshot instead of waiting for one.

What a reader gets without touching the filters (as of today, the trailing year, every partner, and the
overview's workspace goals in force) is computed for the data version in force (cache.py); every other
query reuses the inputs it loaded.
The thread asks for the data version every `warm_dashboards_seconds` (one statement): an unchanged
version costs nothing more, a new one one computation; requests arriving meanwhile take the last
figures computed (service._while_computed) or wait for it rather than start again. Each process keeps
its own cache, so each warms its own.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from ecoops.actors import SYSTEM
from ecoops.config import Settings
from ecoops.goals import plan
from ecoops.metrics import cache, service

log = logging.getLogger(__name__)


def warm(sessions: sessionmaker[Session], settings: Settings) -> tuple[int, ...]:
    """Compute every figure of the default query for the records as they are now (cached: once per
    change); the data version they were computed for."""
    with sessions() as session, service.pinned_records(session, settings) as records:
        query = service.build_query(settings.today())
        service.report(session, SYSTEM, settings, query)
        # The overview's plan vs actual: the workspace's goals in force, each its period's own query.
        plan.lines(session, SYSTEM, settings, plan.scope_keys(query.filters), query.as_of)
        version: tuple[int, ...] = records.key[0]
        return version


class Warmer:
    def __init__(self, sessions: sessionmaker[Session], settings: Settings) -> None:
        self.sessions, self.settings = sessions, settings
        self._stop = threading.Event()

    def run(self) -> None:
        last: tuple[int, ...] | None = None
        while not self._stop.is_set():
            started = time.perf_counter()
            try:
                version = warm(self.sessions, self.settings)
            except Exception:  # a bad moment (database away) must not end the thread; readers compute then
                log.exception("warming the dashboards failed; trying again")
            else:
                if version != last:
                    log.info("dashboards warmed in %.2f s", time.perf_counter() - started)
                last = version
            self._stop.wait(self.settings.warm_dashboards_seconds)

    def stop(self) -> None:
        self._stop.set()


def wanted(settings: Settings) -> bool:
    return settings.warm_dashboards == "on" or (settings.warm_dashboards == "auto" and settings.env != "test")


@asynccontextmanager
async def warm_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the warming thread with the app and stop it on shutdown."""
    settings: Settings = app.state.settings
    if not wanted(settings):
        yield
        return
    warmer = Warmer(app.state.sessions, settings)
    thread = threading.Thread(target=warmer.run, name="ecoops-warm-dashboards", daemon=True)
    thread.start()
    cache.WARMING.set()
    try:
        yield
    finally:
        cache.WARMING.clear()
        warmer.stop()
        # A computation under way is not interrupted; the daemon thread ends with the process.
        thread.join(timeout=1)
