"""The worker: each tick runs the tick jobs, then claims due deliveries and sends them; beside the
ticks, a thread of its own runs queued jobs (ecoops.jobs) one at a time, so a long mapping run or
import does not hold back deliveries.

Run it as `ecoops worker` (several processes share the work on PostgreSQL) or in the web process
(automation/worker_thread.py). It stops between batches when asked (SIGTERM, SIGINT, or `stop()`),
so nothing claimed is abandoned unless the process is killed outright; a killed worker's claims
(deliveries and jobs) are retried when their lease runs out.
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

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ecoops.automation import jobs
from ecoops.automation.claims import Claim, claim
from ecoops.automation.sending import SENDERS, Sender, deliver
from ecoops.config import Settings
from ecoops.db import transaction
from ecoops.jobs import queue

log = logging.getLogger("ecoops.worker")
JOB_STOP_WAIT_SECONDS = 10.0


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
            except IntegrityError:
                # Another worker did the same once-only work first (a day's scan mark, an enrolment):
                # its unique key refused this one's copy, which is what it is there for.
                log.info("tick job %s: another worker did it first", getattr(job, "__name__", job))
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

    def work_jobs(self) -> int:
        """Run queued jobs until none is due (or asked to stop); how many ran."""
        ran = 0
        while not self.stopping.is_set() and queue.work_once(self.factory, self.settings, clock=self.now):
            ran += 1
        return ran

    def _job_loop(self) -> None:
        while not self.stopping.is_set():
            try:
                ran = self.work_jobs()
            except Exception:  # the database went away for a moment: log, wait, go on
                log.exception("job queue failed")
                ran = 0
            if not ran:
                self.stopping.wait(self.settings.worker_poll_seconds)

    def run(self, *, once: bool = False) -> Counter[str]:
        total = Counter[str]()
        jobs = None if once else threading.Thread(target=self._job_loop, name="ecoops-jobs", daemon=True)
        if jobs is not None:
            jobs.start()
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="ecoops-send") as pool:
            while not self.stopping.is_set():
                try:
                    total += self.tick(pool)
                    if once:
                        self.work_jobs()
                except Exception:  # the database went away for a moment: log, wait, go on
                    log.exception("worker tick failed")
                if once:
                    break
                self.stopping.wait(self.settings.worker_poll_seconds)
        if jobs is not None:
            # A job in hand ends here if it ends soon; else its lease runs out and another worker retries it.
            jobs.join(timeout=JOB_STOP_WAIT_SECONDS)
        return total

    def stop(self) -> None:
        self.stopping.set()
