"""The delivery worker: each tick runs the tick jobs, then claims due deliveries and sends them.

Run it as `ecoops worker` (several processes share the work on PostgreSQL) or in the web process
(automation/worker_thread.py). It stops between batches when asked (SIGTERM, SIGINT, or `stop()`),
so nothing claimed is abandoned unless the process is killed outright; a killed worker's claims are
retried when their lease runs out.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from ecoops.automation import jobs
from ecoops.automation.claims import Claim, claim
from ecoops.automation.sending import SENDERS, Sender, deliver
from ecoops.config import Settings
from ecoops.db import transaction

log = logging.getLogger("ecoops.worker")


class Worker:
    def __init__(
        self,
        factory: sessionmaker[Session],
        settings: Settings,
        *,
        concurrency: int | None = None,
        clock: Callable[[], float] = time.time,
        senders: Mapping[str, Sender] = SENDERS,
        rng: random.Random | None = None,
    ) -> None:
        self.factory = factory
        self.settings = settings
        self.concurrency = concurrency or settings.worker_concurrency
        self.clock = clock
        self.senders = senders
        self.rng = rng or random.Random()
        self.stopping = threading.Event()

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def run_jobs(self) -> int:
        """Each tick job in its own transaction: one failing job does not hold back the others or delivery."""
        done = 0
        for job in jobs.TICK_JOBS:
            try:
                with transaction(self.factory) as session:
                    done += job(session, self.settings, self.now())
            except Exception:
                log.exception("tick job %s failed", getattr(job, "__name__", job))
        return done

    def deliver_due(self, pool: ThreadPoolExecutor | None = None) -> Counter[str]:
        """Claim one batch (committed before sending) and send it; outcomes counted by kind."""
        with transaction(self.factory) as session:
            claims = claim(
                session,
                now=self.now(),
                lease_seconds=self.settings.delivery_lease_seconds,
                limit=self.settings.worker_batch,
            )

        def send(one: Claim) -> str:
            return deliver(
                self.factory, one, self.settings, clock=self.clock, rng=self.rng, senders=self.senders
            )

        outcomes = pool.map(send, claims) if pool is not None and len(claims) > 1 else map(send, claims)
        return Counter(outcomes)

    def tick(self, pool: ThreadPoolExecutor | None = None) -> Counter[str]:
        self.run_jobs()
        outcomes = Counter[str]()
        # Keep sending while whole batches come back, so a backlog drains without waiting for the poll.
        while not self.stopping.is_set():
            batch = self.deliver_due(pool)
            outcomes += batch
            if batch.total() < self.settings.worker_batch or batch.total() == batch["throttled"]:
                break
        return outcomes

    def run(self, *, once: bool = False) -> Counter[str]:
        total = Counter[str]()
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="ecoops-send") as pool:
            while not self.stopping.is_set():
                try:
                    total += self.tick(pool)
                except Exception:  # the database went away for a moment: log, wait, go on
                    log.exception("worker tick failed")
                if once:
                    break
                self.stopping.wait(self.settings.worker_poll_seconds)
        return total

    def stop(self) -> None:
        self.stopping.set()
