"""The interactive API reference at /api/docs: Swagger UI served from our own static files.

FastAPI's built-in page loads Swagger from a CDN and starts it with an inline script; ours uses the
copy installed from npm and a script file, so it works offline and under our CSP.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ecoops.web.templating import templates

router = APIRouter()


@router.get("/api/docs")
def api_docs(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(
        request, "api_docs.html", {"openapi_url": request.app.openapi_url, "title": request.app.title}
    )
