"""A job's state for the page it belongs to: an htmx fragment polled while the job is queued or
running, which reloads the page (or opens the result's page) once the job is done; Retry when failed."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from ecoops.actors import Actor
from ecoops.jobs import queue
from ecoops.jobs.models import Job, JobState
from ecoops.web.deps import db, page_actor
from ecoops.web.fields import Id
from ecoops.web.security import csrf_protect
from ecoops.web.templating import render, templates

router = APIRouter(dependencies=[Depends(csrf_protect)])
# The status fragment is included by the pages jobs belong to: it names the kind and offers Retry
# to those who may queue it.
templates.env.globals["job_label"] = lambda job: queue.kind_of(job).label
templates.env.globals["job_manage"] = lambda job: queue.kind_of(job).manage.value


def _polled(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _fragment(request: Request, job: Job) -> Response:
    response = render(request, "jobs/_status.html", job=job)
    if job.state == JobState.DONE:
        # Polled until now: show the result. Its own page when it has one, else reload this one.
        if job.result_url:
            response.headers["hx-redirect"] = job.result_url
        else:
            response.headers["hx-refresh"] = "true"
    return response


@router.get("/jobs/{job_id}")
def job_status(
    request: Request, job_id: Id, actor: Actor = Depends(page_actor), session: Session = Depends(db)
) -> Response:
    job = queue.get_job(session, actor, job_id)
    if _polled(request):
        return _fragment(request, job)
    return render(request, "jobs/job.html", job=job, page=queue.kind_of(job).page(job))


@router.post("/jobs/{job_id}/retry")
def retry(
    request: Request, job_id: Id, actor: Actor = Depends(page_actor), session: Session = Depends(db)
) -> Response:
    job = queue.retry(session, actor, job_id)
    if _polled(request):
        return render(request, "jobs/_status.html", job=job)
    return RedirectResponse(queue.kind_of(job).page(job), status_code=303)
