"""The field-mapping page every CRM connection has (admins): per object, which CRM field fills each
ecoops field, a preview of a few real records read with the choices, and saving them (audited).

GET {page}/fields?object=… shows an object's mapping; POST {page}/fields previews the choices
(`action=preview`, the page again with the records as ecoops would store them) or saves them
(`action=save`, back to the page with what changed). The provider's `FieldSource` talks to its CRM.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor
from ecoops.config import Settings
from ecoops.crm.connections import fields, service
from ecoops.crm.connections.fields import MAPPABLE, FieldSource
from ecoops.crm.connections.models import CrmConnection
from ecoops.crm.connections.pages import admin
from ecoops.crm.imports.fields import Kind
from ecoops.permissions import NotFound
from ecoops.web.deps import app_settings, db
from ecoops.web.templating import flash, render

PREVIEW_RECORDS = 5
Sources = Callable[[Session, Settings, CrmConnection], FieldSource]


def add_field_routes(
    router: APIRouter, provider: str, page: str, sources: Sources, objects: dict[str, Kind]
) -> None:
    """GET and POST {page}/fields for `provider`; `objects` are those `sources` can map."""
    label = service.LABELS[provider]

    def _object(name: str) -> str:
        if name not in objects:
            raise NotFound(f"{label} has no object {name[:40]} to map; one of {', '.join(objects)}")
        return name

    def _page(
        request: Request,
        session: Session,
        actor: Actor,
        settings: Settings,
        object_name: str,
        choices: dict[str, str] | None = None,
        action: str = "",
    ) -> Response:
        """The page for one object; with `choices`, those (unsaved) and their preview or refusal."""
        kind = objects[object_name]
        context: dict[str, Any] = {"error": "", "preview": None, "described": {}, "defaults": {}}
        chosen: dict[str, str] = {}
        try:
            connection = service.must(session, actor, provider)
            chosen = fields.chosen(session, connection.id).get(object_name, {})
            source = sources(session, settings, connection)
            described = source.described(object_name)
            defaults = source.defaults(object_name, described)
            context |= {"described": described, "defaults": defaults}
            current = defaults | chosen
            if choices is not None:
                current = current | choices
                fields.check(provider, label, object_name, kind, current, described)
                if action == "preview":
                    context["preview"] = source.preview(object_name, described, current, PREVIEW_RECORDS)
        except (InvalidInput, NotFound) as exc:
            context["error"] = str(exc)
            current = (context["defaults"] | chosen) | (choices or {})
        return render(
            request,
            "crm/fields.html",
            crm=label,
            base=page,
            objects=objects,
            object_name=object_name,
            targets=MAPPABLE[kind],
            current=current,
            chosen=chosen,
            **context,
        )

    @router.get(f"{page}/fields", name=f"{provider}_fields")
    def fields_page(
        request: Request,
        object: str = Query("", max_length=80),
        actor: Actor = Depends(admin),
        session: Session = Depends(db),
        settings: Settings = Depends(app_settings),
    ) -> Response:
        try:
            object_name = _object(object or next(iter(objects)))
        except NotFound as exc:
            flash(request, str(exc), "error")
            return RedirectResponse(page, status_code=303)
        return _page(request, session, actor, settings, object_name)

    @router.post(f"{page}/fields", name=f"{provider}_map_fields")
    async def map_fields(
        request: Request,
        actor: Actor = Depends(admin),
        session: Session = Depends(db),
        settings: Settings = Depends(app_settings),
    ) -> Response:
        form = await request.form()
        return await run_in_threadpool(_map, request, dict(form), actor, session, settings)

    def _map(
        request: Request, form: dict[str, Any], actor: Actor, session: Session, settings: Settings
    ) -> Response:
        try:
            object_name = _object(str(form.get("object", "")))
        except NotFound as exc:
            flash(request, f"Nothing was changed: {exc}.", "error")
            return RedirectResponse(page, status_code=303)
        back = f"{page}/fields?object={object_name}"
        choices = {
            t.field: str(form[f"field.{t.field}"]).strip()[:255]
            for t in MAPPABLE[objects[object_name]]
            if str(form.get(f"field.{t.field}", "")).strip()
        }
        action = str(form.get("action", "save"))
        try:
            if action == "preview":
                return _page(request, session, actor, settings, object_name, choices, action)
            connection = service.must(session, actor, provider)
            source = sources(session, settings, connection)
            described = source.described(object_name)
            defaults = source.defaults(object_name, described)
            current = defaults | fields.chosen(session, connection.id).get(object_name, {}) | choices
            fields.check(provider, label, object_name, objects[object_name], current, described)
            changed = fields.store(
                session, actor, provider, connection.id, object_name, choices, defaults, described
            )
        except (InvalidInput, NotFound) as exc:
            flash(request, f"Nothing was changed: {exc}.", "error")
            return RedirectResponse(back, status_code=303)
        if changed:
            names = ", ".join(f"{name} from {choices[name]}" for name in changed)
            flash(request, f"Saved: {object_name} reads {names} from the next sync.", "success")
        else:
            flash(request, "Nothing to change: the mapping is as it was.", "info")
        return RedirectResponse(back, status_code=303)
