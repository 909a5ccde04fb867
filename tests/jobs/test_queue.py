"""The job queue on a committed database, both backends: queued, claimed, run with progress, retried
with backoff, failed with the error, leases that run out, and a stale worker that must not overwrite."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ecoops.actors import SYSTEM
from ecoops.automation.jobs import TICK_JOBS
from ecoops.automation.worker import Worker
from ecoops.config import Settings
from ecoops.db import transaction
from ecoops.jobs import queue
from ecoops.jobs.models import Job
from ecoops.jobs.queue import JobFailed, JobRun, LeaseLost, Result
from tests.jobs.conftest import TEST_KIND, Clock, Script

pytestmark = pytest.mark.all_backends
SETTINGS = Settings(env="test", secret_key="j" * 40)


def add_job(db: sessionmaker[Session], what: str = "the thing") -> int:
    with transaction(db) as session:
        return queue.enqueue(session, SYSTEM, TEST_KIND, subject="test:1", arguments={"what": what}).id


def row(db: sessionmaker[Session], job_id: int) -> Job:
    with db() as session:
        return session.get_one(Job, job_id)


def work(db: sessionmaker[Session], clock: Clock, *, lease: float = 60, worker: str = "w1") -> str | None:
    return queue.work_once(db, SETTINGS, clock=clock, lease_seconds=lease, worker=worker)


def claim(db: sessionmaker[Session], clock: Clock, worker: str, lease: float = 60) -> queue.Claim | None:
    with transaction(db) as session:
        return queue.claim(session, now=clock(), lease_seconds=lease, worker=worker)


def same_moment(a: datetime | None, b: datetime) -> bool:
    assert a is not None
    return a.replace(tzinfo=None) == b.replace(tzinfo=None)


def test_a_queued_job_runs_with_its_progress_seen_meanwhile_then_done(db, clock, script: Script) -> None:
    seen: list[tuple[str, int, int, str]] = []

    def look(run: JobRun) -> None:  # another session, as the page polling it
        job = row(db, run.claim.id)
        seen.append((job.state, job.progress_done, job.progress_total, job.progress_message))

    script.during = look
    job_id = add_job(db)
    assert row(db, job_id).state == "queued"
    assert work(db, clock) == "done"
    assert seen == [("running", 1, 2, "half way")]
    job = row(db, job_id)
    assert (job.state, job.result, job.attempts, job.last_error) == ("done", "did the thing", 1, "")
    assert (job.progress_done, job.progress_total, job.claimed_until) == (2, 2, None)
    assert work(db, clock) is None  # nothing more is due


def test_a_failing_job_is_retried_with_backoff_then_failed_with_its_error(db, clock, script: Script) -> None:
    script.failures = [RuntimeError("the partner's server is down")] * 3
    job_id = add_job(db)
    assert work(db, clock) == "retry"
    job = row(db, job_id)
    assert (job.state, job.attempts) == ("queued", 1)
    assert "the partner's server is down" in job.last_error
    assert same_moment(job.next_attempt_at, clock() + timedelta(seconds=15))

    clock.advance(14)
    assert work(db, clock) is None  # not due before its backoff
    clock.advance(1)
    assert work(db, clock) == "retry"
    assert same_moment(row(db, job_id).next_attempt_at, clock() + timedelta(seconds=30))  # doubled
    clock.advance(30)
    assert work(db, clock) == "failed"
    job = row(db, job_id)
    assert (job.state, job.attempts, script.attempts) == ("failed", 3, 3)
    assert job.last_error.startswith("unexpected error (RuntimeError: the partner's server is down)")
    clock.advance(3600)
    assert work(db, clock) is None  # failed stays failed until a person retries it

    with transaction(db) as session:
        queue.retry(session, SYSTEM, job_id)
    assert work(db, clock) == "done"
    assert (row(db, job_id).state, row(db, job_id).attempts) == ("done", 1)


def test_bad_input_fails_at_once_without_retries(db, clock, script: Script) -> None:
    script.failures = [JobFailed("the partner has no list to map: upload one first")]
    job_id = add_job(db)
    assert work(db, clock) == "failed"
    job = row(db, job_id)
    assert (job.state, job.attempts, job.last_error) == (
        "failed",
        1,
        "the partner has no list to map: upload one first",
    )


def test_a_killed_workers_job_is_picked_up_when_its_lease_runs_out(db, clock, script: Script) -> None:
    job_id = add_job(db)
    killed = claim(db, clock, "killed", lease=60)  # claimed, then the worker dies: nothing more happens
    assert killed is not None and row(db, job_id).state == "running"
    clock.advance(59)
    assert work(db, clock, worker="w2") is None  # still leased
    clock.advance(1)
    assert work(db, clock, worker="w2") == "done"
    job = row(db, job_id)
    assert (job.state, job.worker_id, job.attempts) == ("done", "w2", 2)


def test_a_job_whose_worker_died_in_every_attempt_is_failed_not_claimed_for_ever(db, clock, script) -> None:
    job_id = add_job(db)
    for _ in range(3):
        assert claim(db, clock, "dies") is not None
        clock.advance(61)
    assert claim(db, clock, "w2") is None
    job = row(db, job_id)
    assert job.state == "failed" and "the worker stopped while running it" in job.last_error


def test_a_stale_worker_finishing_after_the_lease_was_taken_over_overwrites_nothing(
    db, clock, script: Script
) -> None:
    job_id = add_job(db)
    stale = claim(db, clock, "slow")
    assert stale is not None
    clock.advance(61)  # the slow worker's lease runs out; another takes the job
    fresh = claim(db, clock, "fresh")
    assert fresh is not None and fresh.token != stale.token

    with transaction(db) as session:  # the slow one finishes while the fresh one works
        assert queue.mark_done(session, stale, Result("stale result"), clock()) is False
    assert (row(db, job_id).state, row(db, job_id).result) == ("running", "")

    assert queue.run_claim(db, SETTINGS, fresh, clock=clock) == "done"
    finished = row(db, job_id)
    with transaction(db) as session:  # or fails after the fresh one finished
        assert queue.mark_failed(session, stale, "stale error", clock(), retry=True) is False
    stale_run = JobRun(db, SETTINGS, stale, clock=clock)
    with pytest.raises(LeaseLost):
        stale_run.progress(1, 2, "stale progress", force=True)
    with pytest.raises(LeaseLost), stale_run.transaction():
        pass
    job = row(db, job_id)
    assert (job.state, job.result, job.worker_id, job.last_error) == ("done", "did the thing", "fresh", "")
    assert (job.progress_message, job.updated_at) == ("finishing", finished.updated_at)


def test_a_stale_worker_still_running_gives_up_at_its_next_progress_report(db, clock, script: Script) -> None:
    job_id = add_job(db)

    def taken_over(run: JobRun) -> None:
        clock.advance(61)
        assert claim(db, clock, "fresh") is not None  # its lease ran out while it worked

    script.during = taken_over
    assert work(db, clock, worker="slow") == "lost"
    job = row(db, job_id)
    assert (job.state, job.worker_id, job.progress_message) == ("running", "fresh", "half way")


def test_workers_claiming_at_the_same_time_get_different_jobs(db, clock, script: Script) -> None:
    ids = {add_job(db, what=str(n)) for n in range(6)}
    claimed: list[int] = []
    lock = threading.Lock()

    def take(name: str) -> None:
        for _ in range(len(ids)):  # bounded: a claim that hands out a job twice fails, not loops
            one = claim(db, clock, name)
            if one is None:
                return
            with lock:
                claimed.append(one.id)

    threads = [threading.Thread(target=take, args=(f"w{n}",)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(claimed) == sorted(ids)  # each once
    with db() as session:
        assert set(session.scalars(select(Job.state))) == {"running"}


def test_a_worker_run_once_runs_the_due_jobs_after_its_tick(db, script: Script) -> None:
    job_ids = [add_job(db, what=str(n)) for n in range(2)]
    Worker(db, SETTINGS).run(once=True)  # as `ecoops worker --once`
    assert [(row(db, i).state, row(db, i).result) for i in job_ids] == [("done", "did 0"), ("done", "did 1")]


def test_done_jobs_are_removed_after_thirty_days_failed_ones_stay(db, clock, script: Script) -> None:
    assert queue.remove_done_jobs in TICK_JOBS
    old_done, recent_done, old_failed = (add_job(db, what=str(n)) for n in range(3))
    with transaction(db) as session:
        for job_id, state, days in (
            (old_done, "done", 31),
            (recent_done, "done", 29),
            (old_failed, "failed", 31),
        ):
            job = session.get_one(Job, job_id)
            job.state, job.finished_at = state, clock() - timedelta(days=days)
    with transaction(db) as session:
        assert queue.remove_done_jobs(session, SETTINGS, clock()) == 1
    with db() as session:
        assert sorted(session.scalars(select(Job.id))) == [recent_done, old_failed]


def test_a_job_its_handler_still_holds_is_skipped_not_waited_for(db, clock, script: Script, backend) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite has one writer: a claim waits for the handler's transaction anyway")
    job_id = add_job(db)
    with transaction(db) as session:
        session.get_one(Job, job_id).max_attempts = 1  # as an import: one attempt
    slow = claim(db, clock, "slow")
    assert slow is not None
    claimed: list[queue.Claim | None] = []
    with JobRun(db, SETTINGS, slow, clock=clock).transaction():  # its long final transaction
        clock.advance(61)  # its lease ran out meanwhile
        other = threading.Thread(target=lambda: claimed.append(claim(db, clock, "other")))
        other.start()
        other.join(timeout=10)
        assert not other.is_alive(), "the other worker waited for the handler's transaction"
    assert claimed == [None]
    with transaction(db) as session:
        assert queue.mark_done(session, slow, Result("imported"), clock()) is True
    assert row(db, job_id).state == "done"
