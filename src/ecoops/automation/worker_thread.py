"""The in-process worker: a thread the web app starts with itself (ECOOPS_WORKER=auto|inprocess|off).

"auto" runs it except when ECOOPS_ENV is test, so test apps send nothing unless a test asks for it.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ecoops.automation.worker import Worker
from ecoops.config import Settings


def wanted(settings: Settings) -> bool:
    return settings.worker == "inprocess" or (settings.worker == "auto" and settings.env != "test")


@asynccontextmanager
async def worker_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the worker thread with the app (reading app.state at start-up) and stop it on shutdown."""
    settings: Settings = app.state.settings
    if not wanted(settings):
        yield
        return
    worker = Worker(app.state.sessions, settings)
    thread = threading.Thread(target=worker.run, name="ecoops-worker", daemon=True)
    app.state.worker = worker
    thread.start()
    try:
        yield
    finally:
        worker.stop()
        thread.join(timeout=settings.delivery_timeout + 5)
