"""A file over `import_job_rows` lines is committed by the worker, not in the request: the review page
follows the job, and once done the browser is sent to the import's own page. At the threshold it is
still committed in the request."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.actors import Role
from ecoops.config import Settings
from ecoops.crm.models import Account
from ecoops.jobs.models import Job
from tests.crm.imports.test_import_page import ACCOUNTS, _run, _upload
from tests.factories import make_user, sign_in
from tests.jobs.helpers import work_jobs

HTMX = {"hx-request": "true"}
LINES = ACCOUNTS.count("\n")  # 3: the header and two accounts


def _with_threshold(app: FastAPI, settings: Settings, rows: int) -> None:
    app.state.settings = settings.model_copy(update={"import_job_rows": rows})


def test_a_file_over_the_threshold_is_committed_by_the_worker_and_the_page_follows_it(
    client: TestClient, session: Session, app: FastAPI, settings: Settings
) -> None:
    _with_threshold(app, settings, LINES - 1)
    sign_in(client, make_user(session, Role.OPS).email)
    review_url = _upload(client, ACCOUNTS).headers["location"]
    queued = _run(client, review_url, "commit")
    assert queued.status_code == 303 and queued.headers["location"].startswith(review_url.split("?")[0])
    page = client.get(queued.headers["location"]).text
    assert "Import queued" in page and "hubspot · accounts" in page  # the mapping chosen is kept
    [job] = session.scalars(select(Job)).all()
    assert f'hx-get="/jobs/{job.id}" hx-trigger="every 1s"' in page
    assert session.scalars(select(Account)).all() == []  # nothing imported in the request

    again = _run(client, queued.headers["location"], "commit")  # clicked twice: one job
    assert again.status_code == 303 and len(session.scalars(select(Job)).all()) == 1

    assert work_jobs(app.state.sessions, app.state.settings) == ["done"]
    polled = client.get(f"/jobs/{job.id}", headers=HTMX)
    session.refresh(job)
    assert polled.headers["hx-redirect"] == job.result_url and job.result_url.startswith("/imports/")
    assert "Imported 2 rows: 2 new, 0 updated." in polled.text
    assert "committed" in client.get(job.result_url).text
    assert sorted(session.scalars(select(Account.name))) == ["Acme", "Globex"]


def test_a_file_at_the_threshold_is_committed_in_the_request(
    client: TestClient, session: Session, app: FastAPI, settings: Settings
) -> None:
    _with_threshold(app, settings, LINES)
    sign_in(client, make_user(session, Role.OPS).email)
    committed = _run(client, _upload(client, ACCOUNTS).headers["location"], "commit")
    assert committed.status_code == 303 and committed.headers["location"].startswith("/imports/")
    assert session.scalars(select(Job)).all() == []
    assert sorted(session.scalars(select(Account.name))) == ["Acme", "Globex"]


def test_a_queued_import_whose_file_is_gone_fails_with_a_message(
    client: TestClient, session: Session, app: FastAPI, settings: Settings
) -> None:
    _with_threshold(app, settings, 0)
    sign_in(client, make_user(session, Role.OPS).email)
    review_url = _upload(client, ACCOUNTS).headers["location"]
    _run(client, review_url, "commit")
    for stored in settings.uploads_dir.iterdir():  # removed as stale before the worker came
        stored.unlink()
    assert work_jobs(app.state.sessions, app.state.settings) == ["failed"]
    [job] = session.scalars(select(Job)).all()
    session.refresh(job)
    assert job.last_error.startswith("no such upload") and job.last_error.endswith("upload the file again")
