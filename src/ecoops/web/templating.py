"""Jinja2 templates with what every page needs: the actor, the CSRF token, flash messages, the pager."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from ecoops.accounts.models import ContactRole
from ecoops.permissions import Permission, allowed
from ecoops.web.labels import CODED_COLUMNS, label
from ecoops.web.security import csrf_token

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
templates.env.filters["label"] = label
templates.env.globals["coded_columns"] = CODED_COLUMNS
templates.env.globals["contact_roles"] = list(ContactRole)


def flash(request: Request, message: str, kind: str = "info") -> None:
    """A message shown once on the next page rendered for this session."""
    # Assigned, not appended in place: the session only writes its cookie when a key is set.
    request.session["flash"] = [*request.session.get("flash", []), {"kind": kind, "message": message}]


def _pop_flashes(request: Request) -> list[dict[str, str]]:
    return list(request.session.pop("flash", []))


def page_url(request: Request, **changes: Any) -> str:
    """The current URL with some query parameters changed (for pagers and filter links).

    Repeated parameters (`partner=1&partner=2`) are all kept: a pager must not drop half a filter.
    """
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    params += [(k, str(v)) for k, v in changes.items()]
    return f"{request.url.path}?{urlencode([(k, v) for k, v in params if v != ''])}"


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    actor = getattr(request.state, "actor", None)
    context.update(
        request=request,
        actor=actor,
        can=lambda permission: actor is not None and allowed(actor, Permission(permission)),
        csrf_token=csrf_token(request),
        flashes=_pop_flashes(request),
        page_url=lambda **changes: page_url(request, **changes),
    )
    return templates.TemplateResponse(request, template, context, status_code=status_code)


def render_list(request: Request, template: str, rows_template: str, **context: Any) -> HTMLResponse:
    """A filterable list page, or only its rows for htmx's partial updates of the same URL."""
    partial = request.headers.get("hx-request") == "true" and not request.headers.get(
        "hx-history-restore-request"
    )
    response = render(request, rows_template if partial else template, **context)
    # The same URL answers two shapes: caches (and the back button) must keep them apart.
    response.headers["vary"] = "HX-Request"
    return response
