"""`/metrics` for Prometheus: request latency from this process, queue and delivery figures from the database.

The latency histogram lives in this process (scrape each web process; see docs/running.md). The job and
delivery figures are counted from the database at scrape time, so every process answers the same,
however many web and worker processes share the database. The endpoint exists only when
ECOOPS_METRICS_TOKEN is set and the request carries it as a bearer token; otherwise it answers 404,
as if it did not exist, so business figures are never public by default.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, case, func, select

from ecoops.audit import utcnow
from ecoops.automation.deliveries import Channel, Delivery, DeliveryStatus
from ecoops.db import READ_ONLY
from ecoops.jobs.models import Job, JobState

PROCESS = CollectorRegistry()
REQUEST_SECONDS = Histogram(
    "ecoops_http_request_duration_seconds",
    "Time from request to the end of the response, by route template, method and status.",
    ["method", "route", "status"],
    registry=PROCESS,
)
# Done jobs are history, not a queue.
JOB_STATES = (JobState.QUEUED.value, JobState.RUNNING.value, JobState.FAILED.value)
RETRYING = "retrying"  # a pending delivery that failed at least once
DELIVERY_STATES = (
    DeliveryStatus.PENDING.value,
    RETRYING,
    DeliveryStatus.SENDING.value,
    DeliveryStatus.DELIVERED.value,
    DeliveryStatus.DEAD.value,
)

router = APIRouter()


def _age_seconds(oldest: datetime | None, now: datetime) -> float:
    if oldest is None:
        return 0.0
    if oldest.tzinfo is None:  # SQLite hands back naive UTC
        oldest = oldest.replace(tzinfo=UTC)
    return max(0.0, (now - oldest).total_seconds())


class DatabaseFigures(Collector):
    """Job queue and delivery figures, read in one short read-only transaction per scrape."""

    def __init__(self, engine: Engine, kinds: Iterable[str]) -> None:
        self.engine, self.kinds = engine, sorted(kinds)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = utcnow()
        delivery_state = case(
            (
                (Delivery.status == DeliveryStatus.PENDING.value) & (Delivery.attempts > 0),
                RETRYING,
            ),
            else_=Delivery.status,
        )
        with self.engine.connect() as connection:
            connection.execution_options(**READ_ONLY)
            jobs = connection.execute(
                select(Job.kind, Job.state, func.count())
                .where(Job.state.in_(JOB_STATES))
                .group_by(Job.kind, Job.state)
            ).all()
            oldest_job = connection.scalar(
                select(func.min(Job.next_attempt_at)).where(
                    Job.state == JobState.QUEUED.value, Job.next_attempt_at <= now
                )
            )
            deliveries = connection.execute(
                select(Delivery.channel, delivery_state, func.count()).group_by(
                    Delivery.channel, delivery_state
                )
            ).all()
            oldest_delivery = connection.scalar(
                select(func.min(Delivery.next_attempt_at)).where(
                    Delivery.status == DeliveryStatus.PENDING.value, Delivery.next_attempt_at <= now
                )
            )
        job_counts = {(kind, state): 0 for kind in self.kinds for state in JOB_STATES}
        job_counts |= {(kind, state): count for kind, state, count in jobs}
        yield _gauge(
            "ecoops_jobs", "Jobs queued, running and failed, by kind.", ["kind", "state"], job_counts
        )
        yield GaugeMetricFamily(
            "ecoops_jobs_oldest_due_age_seconds",
            "How long the queued job due longest ago has waited for a worker (0: none waiting).",
            value=_age_seconds(oldest_job, now),
        )
        counts = {(channel.value, state): 0 for channel in Channel for state in DELIVERY_STATES}
        counts |= {(channel, state): count for channel, state, count in deliveries}
        yield _gauge(
            "ecoops_deliveries",
            "Deliveries by channel and state (retrying: pending after a failed attempt; dead: given up).",
            ["channel", "state"],
            counts,
        )
        yield GaugeMetricFamily(
            "ecoops_deliveries_oldest_due_age_seconds",
            "How long the pending delivery due longest ago has waited for a worker (0: none waiting).",
            value=_age_seconds(oldest_delivery, now),
        )


def _gauge(
    name: str, documentation: str, labels: list[str], values: dict[tuple[str, str], int]
) -> GaugeMetricFamily:
    gauge = GaugeMetricFamily(name, documentation, labels=labels)
    for key, value in sorted(values.items()):
        gauge.add_metric(list(key), value)
    return gauge


def _authorized(request: Request) -> bool:
    expected = request.app.state.settings.metrics_token
    if not expected:
        return False
    scheme, _, sent = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(sent.strip().encode(), expected.encode())


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    if not _authorized(request):
        raise HTTPException(404, "Not Found")
    from ecoops.jobs.kinds import KINDS  # the handlers import every domain

    figures = CollectorRegistry()
    figures.register(DatabaseFigures(request.app.state.engine, KINDS))
    body = generate_latest(PROCESS) + generate_latest(figures)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
