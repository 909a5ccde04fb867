"""Jobs as people meet them on the partner's mapping page: the run after an upload followed by polling
until the page reloads with the result; an attempt that failed and is retried; a failed job's error
and its Retry button; the same file uploaded again while its run is stuck; who sees which job."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.actors import SYSTEM, Role
from ecoops.audit import utcnow
from ecoops.db import transaction
from ecoops.jobs import queue
from ecoops.jobs.models import Job
from ecoops.jobs.names import IMPORT, MAPPING, mapping_subject
from ecoops.partners.models import Partner
from tests.factories import csrf_from, make_partner, make_user, sign_in
from tests.jobs.conftest import TEST_KIND, Script
from tests.jobs.helpers import work_jobs
from tests.mapping.test_mapping_runs import HEADER, PARTNER_ROWS, our_accounts

HTMX = {"hx-request": "true"}
CSV = (HEADER + "\n".join(PARTNER_ROWS) + "\n").encode()


def _upload(client: TestClient, partner: Partner, body: bytes = CSV) -> None:
    page = client.get(f"/mapping/partners/{partner.id}")
    uploaded = client.post(
        f"/mapping/partners/{partner.id}/uploads",
        data={"csrf_token": csrf_from(page.text)},
        files={"file": ("northwind.csv", body, "text/csv")},
    )
    assert uploaded.status_code == 303


def _jobs(session: Session) -> list[Job]:
    session.expire_all()
    return list(session.scalars(select(Job).order_by(Job.id)))


def _manager(client: TestClient, session: Session) -> Partner:
    our_accounts(session)
    partner = make_partner(session, name="Northwind")
    sign_in(client, make_user(session, Role.PARTNER_MANAGER).email)
    return partner


def test_the_run_after_an_upload_is_polled_until_the_page_reloads_with_the_matrix(
    client: TestClient, session: Session, app: FastAPI
) -> None:
    partner = _manager(client, session)
    _upload(client, partner)
    [job] = _jobs(session)
    page = client.get(f"/mapping/partners/{partner.id}").text
    assert f'hx-get="/jobs/{job.id}" hx-trigger="every 1s"' in page
    assert "Queued by" in page and "waiting for the worker" in page

    polled = client.get(f"/jobs/{job.id}", headers=HTMX)
    assert polled.status_code == 200 and "hx-refresh" not in polled.headers
    assert "every 1s" in polled.text and "<html" not in polled.text  # a fragment, still polling

    assert work_jobs(app.state.sessions, app.state.settings) == ["done"]
    polled = client.get(f"/jobs/{job.id}", headers=HTMX)
    assert polled.headers["hx-refresh"] == "true"  # the page reloads itself with the result
    assert "every 1s" not in polled.text and "matches between" in polled.text
    page = client.get(f"/mapping/partners/{partner.id}").text
    assert "every 1s" not in page
    assert 'overlaps?ours=customers&amp;theirs=Customers"><strong class="count">2</strong>' in page


def test_a_failed_attempt_then_a_failed_job_with_its_error_then_retry_then_done(
    client: TestClient, session: Session, app: FastAPI, script: Script
) -> None:
    partner = _manager(client, session)
    script.failures = [RuntimeError("the matcher ran out of memory")] * 2
    job = queue.enqueue(
        session, SYSTEM, TEST_KIND, subject=mapping_subject(partner.id), arguments={"what": "a run"}
    )
    job.max_attempts = 2
    session.flush()
    assert work_jobs(app.state.sessions, app.state.settings) == ["retry"]
    page = client.get(f"/mapping/partners/{partner.id}").text
    assert "Attempt 1 of 2 failed: unexpected error (RuntimeError: the matcher ran out of memory)" in page
    assert "Trying again at" in page and "every 1s" in page  # still followed

    session.refresh(job)
    job.next_attempt_at = utcnow() - timedelta(seconds=1)  # its backoff is over
    session.flush()
    assert work_jobs(app.state.sessions, app.state.settings) == ["failed"]
    polled = client.get(f"/jobs/{job.id}", headers=HTMX)
    failed = "Failed after 2 attempts: unexpected error (RuntimeError: the matcher ran out of memory)"
    assert failed in polled.text
    assert "every 1s" not in polled.text  # polling stops on a failure
    assert f'hx-post="/jobs/{job.id}/retry"' in polled.text and ">Retry</button>" in polled.text

    refused = client.post(f"/jobs/{job.id}/retry", headers=HTMX)  # no CSRF token
    assert refused.status_code == 403
    retried = client.post(f"/jobs/{job.id}/retry", headers={**HTMX, "x-csrf-token": csrf_from(polled.text)})
    assert retried.status_code == 200 and "waiting for the worker" in retried.text
    assert "every 1s" in retried.text  # followed again
    assert work_jobs(app.state.sessions, app.state.settings) == ["done"]
    polled = client.get(f"/jobs/{job.id}", headers=HTMX)
    assert polled.headers["hx-refresh"] == "true" and "did a run" in polled.text

    token = csrf_from(client.get(f"/mapping/partners/{partner.id}").text)
    again = client.post(f"/jobs/{job.id}/retry", data={"csrf_token": token})
    assert again.status_code == 400 and "only a failed job can be retried" in again.text


def test_the_same_file_again_while_its_run_is_stuck_queues_a_new_run(
    client: TestClient, session: Session, app: FastAPI
) -> None:
    partner = _manager(client, session)
    _upload(client, partner)
    _upload(client, partner)  # again before the worker came: the queued run serves
    [stuck] = _jobs(session)
    with transaction(app.state.sessions) as worker_session:  # a worker takes it and hangs
        assert queue.claim(worker_session, now=utcnow(), lease_seconds=600, worker="hung") is not None

    _upload(client, partner)
    page = client.get(f"/mapping/partners/{partner.id}").text
    assert "is the current list, not mapped yet: its mapping run is queued" in page
    first, second = _jobs(session)
    assert (first.id, first.state, second.state) == (stuck.id, "running", "queued")
    assert f'hx-get="/jobs/{second.id}"' in page  # the page follows the new run
    assert work_jobs(app.state.sessions, app.state.settings) == ["done"]
    assert "matches between" in client.get(f"/jobs/{second.id}", headers=HTMX).text

    _upload(client, partner)  # mapped now: the same file changes nothing
    page = client.get(f"/mapping/partners/{partner.id}").text
    assert "has the same content as the current list: nothing changed" in page
    assert len(_jobs(session)) == 2


def test_map_again_queues_a_run_of_the_current_list(
    client: TestClient, session: Session, app: FastAPI
) -> None:
    partner = _manager(client, session)
    _upload(client, partner)
    work_jobs(app.state.sessions, app.state.settings)
    page = client.get(f"/mapping/partners/{partner.id}").text
    assert ">Map again</button>" in page
    queued = client.post(f"/mapping/partners/{partner.id}/runs", data={"csrf_token": csrf_from(page)})
    assert queued.status_code == 303
    assert [job.state for job in _jobs(session)] == ["done", "queued"]
    assert work_jobs(app.state.sessions, app.state.settings) == ["done"]
    assert "nothing changed since the last run" in _jobs(session)[-1].result


def test_who_sees_a_job_and_who_may_retry_it(client: TestClient, session: Session) -> None:
    partner = make_partner(session, name="Northwind")
    mapping = queue.enqueue(
        session, SYSTEM, MAPPING, subject=mapping_subject(partner.id), arguments={"partner_id": partner.id}
    )
    importing = queue.enqueue(session, SYSTEM, IMPORT, subject="upload:0", arguments={"token": "0" * 32})
    for job in (mapping, importing):
        job.state, job.last_error = "failed", "it broke"
    session.flush()

    sign_in(client, make_user(session, Role.VIEWER).email)  # reads mapping, imports nothing
    fragment = client.get(f"/jobs/{mapping.id}", headers=HTMX)
    assert "it broke" in fragment.text and "Retry" not in fragment.text
    token = csrf_from(client.get("/mapping").text)
    retried = client.post(f"/jobs/{mapping.id}/retry", data={"csrf_token": token})
    assert retried.status_code == 403
    assert client.get(f"/jobs/{importing.id}").status_code == 404  # an import's job is not the viewer's
