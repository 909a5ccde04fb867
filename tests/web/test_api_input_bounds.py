"""Hostile numbers and sizes: every integer a route reads is bounded so the database can hold it, ids
and page numbers too large answer 422 (never 500) on pages and API on both backends, and an oversized
API body is refused before it is parsed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts
from pydantic import TypeAdapter

from ecoops.actors import Role
from ecoops.pagination import MAX_PAGE, MAX_PER_PAGE
from ecoops.web.app import create_app
from ecoops.web.fields import MAX_ID
from tests.factories import bearer, make_user, sign_in

TOO_LARGE = [str(MAX_ID + 1), "99999999999999999999"]
# Ranges the service checks itself, with a message the page shows next to the form.
SERVICE_CHECKED = {"days", "interval_hours", "rank"}


def _integers(schema: Any, defs: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every integer node of a JSON schema, following $refs."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            yield from _integers(defs[schema["$ref"].rsplit("/", 1)[1]], defs)
        if schema.get("type") == "integer":
            yield schema
        for key, value in schema.items():
            if key != "$defs":
                yield from _integers(value, defs)
    elif isinstance(schema, list):
        for value in schema:
            yield from _integers(value, defs)


def _fields(dependant: Dependant) -> Iterator[Any]:
    yield from (
        dependant.path_params + dependant.query_params + dependant.header_params + dependant.body_params
    )
    for dependency in dependant.dependencies:
        yield from _fields(dependency)


def test_every_integer_a_route_reads_is_bounded(settings, engine):
    app = create_app(settings, engine)
    unbounded = []
    for route in iter_route_contexts(app.routes):
        if not hasattr(route, "dependant"):
            continue
        for field in _fields(route.dependant):
            if field.name in SERVICE_CHECKED:
                continue
            info = field.field_info
            annotation = Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
            schema = TypeAdapter(annotation).json_schema()
            for node in _integers(schema, schema.get("$defs", {})):
                if not node.get("maximum", MAX_ID + 1) <= MAX_ID:
                    unbounded.append(f"{sorted(route.methods)} {route.path} {field.name}")
    assert not unbounded, "unbounded integers:\n" + "\n".join(sorted(set(unbounded)))


@pytest.mark.all_backends
def test_ids_and_pages_too_large_answer_422_on_the_api(client, session):
    headers = bearer(session, make_user(session, Role.ADMIN))
    for value in TOO_LARGE:
        response = client.get(f"/api/v1/partners/{value}", headers=headers)
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["path", "partner_id"]
        assert client.get(f"/api/v1/metrics/overview?program={value}", headers=headers).status_code == 422
        assert client.get(f"/api/v1/partners?owner_id={value}", headers=headers).status_code == 422
    huge_page = client.get("/api/v1/partners?page=9223372036854775807", headers=headers)
    assert huge_page.status_code == 422 and huge_page.json()["detail"][0]["loc"] == ["query", "page"]
    assert client.get("/api/v1/audit-events?page=9223372036854775807", headers=headers).status_code == 422
    # The largest id the database holds is only missing, and the last page only empty.
    assert client.get(f"/api/v1/partners/{MAX_ID}", headers=headers).status_code == 404
    last = client.get(f"/api/v1/partners?page={MAX_PAGE}&per_page={MAX_PER_PAGE}", headers=headers)
    assert last.status_code == 200 and last.json()["items"] == []


@pytest.mark.all_backends
def test_ids_and_pages_too_large_answer_a_422_page(client, session):
    sign_in(client, make_user(session, Role.ADMIN).email)
    for value in TOO_LARGE:
        for url in (f"/partners/{value}", f"/dashboards/overview?program={value}", f"/referrals/{value}"):
            page = client.get(url)
            assert page.status_code == 422, url
            assert "invalid input" in page.text and "less than or equal to 2147483647" in page.text
    assert client.get("/partners?page=9223372036854775807").status_code == 422
    assert client.get(f"/partners/{MAX_ID}").status_code == 404


@pytest.mark.all_backends
def test_text_the_database_cannot_store_is_bad_input(client, session, backend):
    """PostgreSQL refuses NUL characters in text: a 400 that says so, on the API and on pages."""
    admin = make_user(session, Role.ADMIN)
    api = client.get("/api/v1/partners?q=a%00b", headers=bearer(session, admin))
    sign_in(client, admin.email)
    page = client.get("/partners?q=a%00b")
    if backend == "postgresql":
        assert api.status_code == 400 and "cannot contain NUL" in api.json()["detail"]
        assert page.status_code == 400 and "cannot contain NUL" in page.text
    else:
        assert (api.status_code, page.status_code) == (200, 200)
