"""The job queue: enqueue in the caller's transaction; claim, run, and record the outcome in the worker.

A claim is one UPDATE … WHERE id IN (SELECT the next due job … LIMIT 1) RETURNING id, committed before
the handler runs (SKIP LOCKED on PostgreSQL, so several workers claim different jobs; on SQLite one
writer at a time anyway). It sets a fresh `claim_token` and a lease (`claimed_until`): a worker killed
mid-job leaves a row that becomes due again when the lease runs out. Every later write of the worker
(progress, done, failed) is a compare-and-set on that token, so a worker whose lease was taken over
cannot overwrite what the newer claim did.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, delete, false, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from ecoops import audit
from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor, ActorKind, Role
from ecoops.audit import utcnow
from ecoops.config import Settings
from ecoops.db import READ_ONLY, transaction
from ecoops.jobs.models import ACTIVE, Job, JobState
from ecoops.permissions import NotFound, Permission, allowed, require

log = logging.getLogger("ecoops.jobs")

LEASE_SECONDS = 600.0  # renewed by every progress report; a killed worker's job is retried after it
BACKOFF_SECONDS = 15.0  # the first retry waits this long, doubling each time
BACKOFF_MAX_SECONDS = 900.0
PROGRESS_EVERY_SECONDS = 0.5  # progress reports closer together than this are not written
KEEP_DONE_DAYS = 30  # done jobs are removed after this; failed ones stay until a person retries them


class JobFailed(Exception):
    """A handler's failure that another attempt would not mend (bad input): failed at once, no retry."""


class LeaseLost(Exception):
    """This worker's claim on the job was taken over (its lease ran out): stop, write nothing more."""


@dataclass(frozen=True)
class Result:
    """What a handler did, in a sentence, and the page that shows it when not the job's own page."""

    message: str
    url: str = ""


@dataclass(frozen=True)
class Kind:
    """What a kind of job does, who may see it and who may queue or retry it, and where it shows."""

    name: str
    label: str  # what people call it: "Mapping run"
    handler: Callable[[JobRun], Result]
    read: Permission
    manage: Permission
    page: Callable[[Job], str]  # the page the job is shown on (and that shows its result)
    max_attempts: int = 3


def kinds() -> dict[str, Kind]:
    from ecoops.jobs.kinds import KINDS  # the handlers import the domains, which import this module

    return KINDS


def kind_of(job: Job | str) -> Kind:
    return kinds()[job if isinstance(job, str) else job.kind]


# -- the web's side: queue, look, retry -------------------------------------------------------------
def _actor_json(actor: Actor) -> dict[str, Any]:
    return {key: (value.value if hasattr(value, "value") else value) for key, value in asdict(actor).items()}


def actor_of(job: Job) -> Actor:
    data = job.actor
    return Actor(
        kind=ActorKind(data["kind"]),
        id=data["id"],
        label=data["label"],
        role=Role(data["role"]) if data["role"] else None,
        partner_id=data["partner_id"],
    )


def enqueue(
    session: Session,
    actor: Actor,
    kind: str,
    *,
    subject: str,
    arguments: dict[str, Any],
    partner_id: int | None = None,
) -> Job:
    """Queue a job in the caller's transaction: it exists exactly when what it works on is committed."""
    spec = kind_of(kind)
    require(actor, spec.manage)
    now = utcnow()
    job = Job(
        kind=kind,
        subject=subject,
        arguments=arguments,
        partner_id=partner_id,
        actor=_actor_json(actor),
        queued_by=actor.label[:200],
        max_attempts=spec.max_attempts,
        next_attempt_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(job)
    session.flush()
    audit.record(session, actor, "job.queued", "job", job.id, kind=kind, subject=subject)
    return job


def readable_jobs(actor: Actor) -> Select[Job]:
    """The jobs `actor` may see: internal users those of kinds they may read; partner users none
    (their portal shows no jobs; a job's partner_id is the partner it is about, not its owner)."""
    names = [name for name, spec in kinds().items() if allowed(actor, spec.read)]
    return select(Job).where(Job.kind.in_(names) if names else false())


def get_job(session: Session, actor: Actor, job_id: int) -> Job:
    job = session.scalar(readable_jobs(actor).where(Job.id == job_id))
    if job is None:
        raise NotFound("no such job")
    return job


def latest_job(session: Session, actor: Actor, subject: str) -> Job | None:
    """The newest job about `subject` that `actor` may see (what the subject's page shows)."""
    return session.scalar(readable_jobs(actor).where(Job.subject == subject).order_by(Job.id.desc()).limit(1))


def active_job(session: Session, subject: str) -> Job | None:
    """A queued or running job about `subject`, if any."""
    return session.scalar(
        select(Job).where(Job.subject == subject, Job.state.in_(ACTIVE)).order_by(Job.id.desc()).limit(1)
    )


def retry(session: Session, actor: Actor, job_id: int) -> Job:
    """Queue a failed job again, from its first attempt (the Retry button)."""
    job = get_job(session, actor, job_id)
    require(actor, kind_of(job).manage)
    if job.state != JobState.FAILED:
        raise InvalidInput(f"job {job.id} is {job.state}: only a failed job can be retried")
    now = utcnow()
    job.state, job.attempts, job.next_attempt_at, job.updated_at = JobState.QUEUED.value, 0, now, now
    job.progress_done, job.progress_total, job.progress_message = 0, 0, ""
    job.finished_at = None
    audit.record(session, actor, "job.retried", "job", job.id, kind=job.kind, error=job.last_error[:500])
    session.flush()
    return job


# -- the worker's side: claim, report, finish -------------------------------------------------------
def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:100]


@dataclass(frozen=True)
class Claim:
    """A claimed job, detached from any session: what the handler needs and the token that proves it."""

    id: int
    kind: str
    token: str
    arguments: dict[str, Any]
    actor: Actor
    attempts: int  # including this one
    max_attempts: int


def _skip_locked(query: Select[int], session: Session) -> Select[int]:
    """On PostgreSQL, rows another transaction holds are skipped, not waited for: a job's row is held
    by its own handler's final transaction (JobRun.transaction), which may run long (an import)."""
    if session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query


def _exhaust_abandoned(session: Session, now: datetime) -> None:
    """Jobs whose workers died in each of their attempts: failed, not claimed again for ever."""
    abandoned = select(Job.id).where(
        Job.state == JobState.RUNNING.value,
        Job.claimed_until <= now,
        Job.attempts >= Job.max_attempts,
    )
    session.execute(
        update(Job)
        .where(Job.id.in_(_skip_locked(abandoned, session).scalar_subquery()))
        .values(
            state=JobState.FAILED.value,
            claimed_until=None,
            finished_at=now,
            updated_at=now,
            last_error="the worker stopped while running it (killed or restarted) in each attempt",
        )
        .execution_options(synchronize_session=False)
    )


def _due(now: datetime) -> Any:
    """Queued and due, or running on a lease that ran out (its worker died)."""
    return or_(
        and_(Job.state == JobState.QUEUED.value, Job.next_attempt_at <= now),
        and_(Job.state == JobState.RUNNING.value, Job.claimed_until <= now),
    )


def any_due(session: Session, now: datetime) -> bool:
    return session.scalar(select(Job.id).where(_due(now)).limit(1)) is not None


def claim(session: Session, *, now: datetime, lease_seconds: float, worker: str) -> Claim | None:
    """Take the next due job for `lease_seconds`; the caller commits before running it."""
    _exhaust_abandoned(session, now)
    due = _skip_locked(
        select(Job.id).where(_due(now)).order_by(Job.next_attempt_at, Job.id).limit(1), session
    )
    token = uuid.uuid4().hex
    job_id = session.scalar(
        update(Job)
        .where(Job.id.in_(due.scalar_subquery()))
        .values(
            state=JobState.RUNNING.value,
            attempts=Job.attempts + 1,
            claimed_until=now + timedelta(seconds=lease_seconds),
            worker_id=worker,
            claim_token=token,
            started_at=now,
            updated_at=now,
        )
        .returning(Job.id)
        .execution_options(synchronize_session=False)
    )
    if job_id is None:
        return None
    job = session.get_one(Job, job_id, populate_existing=True)
    return Claim(job.id, job.kind, token, dict(job.arguments), actor_of(job), job.attempts, job.max_attempts)


def _ours(claim: Claim) -> Any:
    return and_(Job.id == claim.id, Job.claim_token == claim.token, Job.state == JobState.RUNNING.value)


def _set(session: Session, claim: Claim, **values: Any) -> bool:
    """Compare-and-set on the claim token: whether the row was still this claim's."""
    done = session.execute(
        update(Job).where(_ours(claim)).values(**values).execution_options(synchronize_session=False)
    )
    return bool(getattr(done, "rowcount", 0))


def mark_done(session: Session, claim: Claim, result: Result, now: datetime) -> bool:
    return _set(
        session,
        claim,
        state=JobState.DONE.value,
        result=result.message[:500],
        result_url=result.url[:300],
        last_error="",
        claimed_until=None,
        finished_at=now,
        updated_at=now,
    )


def backoff_seconds(attempt: int) -> float:
    """15 s after the first failed attempt, doubling each time, at most 15 minutes."""
    return min(BACKOFF_MAX_SECONDS, BACKOFF_SECONDS * 2.0 ** max(0, attempt - 1))


def mark_failed(session: Session, claim: Claim, error: str, now: datetime, *, retry: bool) -> bool:
    """Queued again after the backoff while attempts remain (and `retry`), else failed for good."""
    again = retry and claim.attempts < claim.max_attempts
    values: dict[str, Any] = {"last_error": error[:2000], "claimed_until": None, "updated_at": now}
    if again:
        values |= {
            "state": JobState.QUEUED.value,
            "next_attempt_at": now + timedelta(seconds=backoff_seconds(claim.attempts)),
        }
    else:
        values |= {"state": JobState.FAILED.value, "finished_at": now}
    return _set(session, claim, **values)


class JobRun:
    """What a handler gets: the job's arguments and actor, sessions, settings, and progress reports.

    Handlers commit their work in short transactions of their own (SQLite has one writer: a long
    one makes every page that writes wait), and report progress between them, never inside one.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        claim: Claim,
        *,
        clock: Callable[[], datetime] = utcnow,
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        self.sessions, self.settings, self.claim = sessions, settings, claim
        self.clock, self.lease_seconds = clock, lease_seconds
        self._last_report = 0.0

    @property
    def arguments(self) -> dict[str, Any]:
        return self.claim.arguments

    @property
    def actor(self) -> Actor:
        return self.claim.actor

    def progress(self, done: int, total: int = 0, message: str = "", *, force: bool = False) -> None:
        """Record progress (and renew the lease) in a transaction of its own; LeaseLost if taken over."""
        if not force and time.monotonic() - self._last_report < PROGRESS_EVERY_SECONDS:
            return
        self._last_report = time.monotonic()
        now = self.clock()
        with transaction(self.sessions) as session:
            ours = _set(
                session,
                self.claim,
                progress_done=done,
                progress_total=total,
                progress_message=message[:300],
                claimed_until=now + timedelta(seconds=self.lease_seconds),
                updated_at=now,
            )
        if not ours:
            raise LeaseLost(f"job {self.claim.id}: another worker took it over")

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A transaction that holds the job's row and fails with LeaseLost when the claim is no longer
        ours, so a stale worker's final writes never land beside the new claim's."""
        with transaction(self.sessions) as session:
            held = session.execute(
                select(Job.id).where(_ours(self.claim)).with_for_update()
            ).scalar_one_or_none()
            if held is None:
                raise LeaseLost(f"job {self.claim.id}: another worker took it over")
            yield session


def describe(exc: BaseException) -> str:
    """The error as a person reads it: our own refusals as they are, anything else named as unexpected."""
    if isinstance(exc, JobFailed | InvalidInput):
        return str(exc)
    return f"unexpected error ({type(exc).__name__}: {exc}); the worker's log has the details"


def run_claim(
    sessions: sessionmaker[Session],
    settings: Settings,
    claim: Claim,
    *,
    clock: Callable[[], datetime] = utcnow,
    lease_seconds: float = LEASE_SECONDS,
) -> str:
    """Run a claimed job's handler and record the outcome (compare-and-set): "done", "retry",
    "failed", or "lost" when another worker took the job over meanwhile."""
    job_run = JobRun(sessions, settings, claim, clock=clock, lease_seconds=lease_seconds)
    try:
        result = kind_of(claim.kind).handler(job_run)
    except LeaseLost:
        log.warning("job %s: lease lost to another worker; its outcome is that worker's", claim.id)
        return "lost"
    except Exception as exc:
        if not isinstance(exc, JobFailed | InvalidInput):
            log.exception("job %s (%s) failed", claim.id, claim.kind)
        retry = not isinstance(exc, JobFailed | InvalidInput)
        with transaction(sessions) as session:
            ours = mark_failed(session, claim, describe(exc), clock(), retry=retry)
        if not ours:
            return "lost"
        return "retry" if retry and claim.attempts < claim.max_attempts else "failed"
    with transaction(sessions) as session:
        ours = mark_done(session, claim, result, clock())
    return "done" if ours else "lost"


def work_once(
    sessions: sessionmaker[Session],
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utcnow,
    lease_seconds: float = LEASE_SECONDS,
    worker: str | None = None,
) -> str | None:
    """Claim the next due job and run it: its outcome, or None when nothing is due."""
    with sessions() as session:  # looked at first without the write lock: the worker polls often
        session.connection(execution_options=READ_ONLY)
        if not any_due(session, clock()):
            return None
    with transaction(sessions) as session:
        claimed = claim(session, now=clock(), lease_seconds=lease_seconds, worker=worker or worker_id())
    if claimed is None:
        return None
    return run_claim(sessions, settings, claimed, clock=clock, lease_seconds=lease_seconds)


def remove_done_jobs(session: Session, settings: Settings, now: datetime) -> int:
    """Worker tick job: remove the jobs done more than KEEP_DONE_DAYS ago (their results are on their
    pages: runs, exchanges, imports); how many."""
    removed = session.execute(
        delete(Job)
        .where(Job.state == JobState.DONE.value, Job.finished_at < now - timedelta(days=KEEP_DONE_DAYS))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(removed, "rowcount", 0))
