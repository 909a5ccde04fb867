"""The jobs the worker runs on every tick, before it delivers what is due.

Each job takes a session (the worker commits after each job), the settings and the current time,
and returns how many things it did (for logs and progress). Order matters: events become
deliveries before deliveries are sent.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from ecoops.automation.digest.job import send_weekly_digests
from ecoops.automation.dispatch import dispatch_pending
from ecoops.automation.nurture.runner import run_nurture
from ecoops.automation.scanner import scan
from ecoops.config import Settings
from ecoops.crm.connections.service import queue_scheduled_syncs
from ecoops.crm.imports.uploads import remove_stale_uploads
from ecoops.jobs.queue import remove_done_jobs
from ecoops.maturity.criteria import assess_daily
from ecoops.partners.tier_review import evaluate_daily
from ecoops.psi.exchange import start_due_exchanges
from ecoops.reports.packs import send_report_packs

TickJob = Callable[[Session, Settings, datetime], int]

TICK_JOBS: tuple[TickJob, ...] = (
    dispatch_pending,
    scan,
    evaluate_daily,  # once a day; its proposals' events are dispatched on the next tick
    assess_daily,  # once a day: the maturity assessment's dated snapshot
    run_nurture,
    send_weekly_digests,
    send_report_packs,
    start_due_exchanges,
    queue_scheduled_syncs,
    remove_stale_uploads,
    remove_done_jobs,
)
