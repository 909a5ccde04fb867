"""`ecoops worker`: deliver from the outbox and run queued jobs until stopped (SIGTERM or Ctrl-C finish
the batch in hand)."""

from __future__ import annotations

import logging
import signal
from types import FrameType

import typer

from ecoops.automation.worker import Worker
from ecoops.config import get_settings
from ecoops.db import make_engine, session_factory
from ecoops.ops import logs


def worker_command(
    once: bool = typer.Option(
        False, "--once", help="Run one tick (tick jobs, everything due), then the due queued jobs, and exit"
    ),
    concurrency: int = typer.Option(
        0, min=0, help="Deliveries sent at the same time (0: ECOOPS_WORKER_CONCURRENCY)"
    ),
) -> None:
    """Run the worker: tick jobs, Slack, e-mail and webhook deliveries with retries, and queued jobs
    (mapping runs, private exchanges, large imports)."""
    settings = get_settings()
    logs.configure(settings)
    engine = make_engine(settings.effective_database_url)
    worker = Worker(session_factory(engine), settings, concurrency=concurrency or None)

    def stop(signum: int, _frame: FrameType | None) -> None:
        logging.getLogger("ecoops.worker").info("signal %d: stopping after the current batch", signum)
        worker.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    outcomes = worker.run(once=once)
    engine.dispose()
    summary = ", ".join(f"{n} {kind}" for kind, n in sorted(outcomes.items())) or "nothing due"
    typer.echo(f"worker stopped: {summary}")
