"""What the OpenAPI document promises and the answers keep: 422s in FastAPI's loc/msg/type shape,
timestamps with their zone, dates only as ISO strings, and oversized bodies refused before parsing."""

from __future__ import annotations

from datetime import datetime

import pytest

from ecoops.actors import Role
from ecoops.web.body_limit import MAX_API_BODY
from tests.asgi import post_scope, run_asgi
from tests.factories import bearer, make_partner, make_user

PARTNER = {"name": "Acme", "partner_type": "technology", "stage": "active"}


@pytest.fixture
def headers(session):
    return bearer(session, make_user(session, Role.ADMIN))


@pytest.mark.all_backends
def test_validation_errors_have_the_documented_shape(client, headers):
    response = client.post("/api/v1/partners", headers=headers, json={"name": ""})
    assert response.status_code == 422
    problems = response.json()["detail"]
    assert {tuple(p["loc"]) for p in problems} >= {("body", "name"), ("body", "stage_since")}
    assert all(set(p) == {"loc", "msg", "type"} for p in problems)  # no echo of the input
    spec = client.get("/api/v1/openapi.json").json()
    assert spec["paths"]["/api/v1/partners"]["post"]["responses"]["422"]["content"]["application/json"][
        "schema"
    ] == {"$ref": "#/components/schemas/ValidationErrorOut"}


def test_every_operation_documents_its_error_answers(client):
    spec = client.get("/api/v1/openapi.json").json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert {"401", "403", "404", "413", "422"} <= set(operation["responses"]), (method, path)


@pytest.mark.all_backends
def test_timestamps_carry_their_zone(client, session, headers):
    make_partner(session)  # an audit row, stored without a zone on SQLite
    client.post(
        "/api/v1/automation/rules",
        headers=headers,
        json={
            "name": "r",
            "trigger": "overlap.began",
            "actions": [{"kind": "task", "to": "partner_manager"}],
            "enabled": True,
        },
    )
    at = client.get("/api/v1/audit-events", headers=headers).json()["items"][0]["at"]
    since = client.get("/api/v1/automation/rules", headers=headers).json()[0]["enabled_since"]
    for stamp in (at, since):
        assert datetime.fromisoformat(stamp).utcoffset() is not None, stamp


@pytest.mark.all_backends
@pytest.mark.parametrize("value", [0, 86400, 1.5, "86400", "2025-01-01T10:00:00", True])
def test_a_date_is_an_iso_string_and_nothing_else(client, headers, value):
    refused = client.post("/api/v1/partners", headers=headers, json=PARTNER | {"stage_since": value})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "stage_since"]


@pytest.mark.all_backends
def test_an_iso_date_is_taken(client, headers):
    created = client.post("/api/v1/partners", headers=headers, json=PARTNER | {"stage_since": "2025-01-31"})
    assert created.status_code == 201 and created.json()["stage_since"] == "2025-01-31"
    change = client.post(
        f"/api/v1/partners/{created.json()['id']}/stage-changes",
        headers=headers,
        json={"to_stage": "churned", "changed_on": 0},
    )
    assert change.status_code == 422 and change.json()["detail"][0]["loc"] == ["body", "changed_on"]


def test_a_body_over_the_cap_is_refused_on_its_length_before_parsing(client, headers):
    # Not even JSON: parsed, it would answer 422; refused on its Content-Length, it answers 413.
    response = client.post("/api/v1/partners", headers=headers, content=b"{" + b" " * (60 << 20))
    assert response.status_code == 413
    assert response.json() == {
        "detail": f"request body larger than {MAX_API_BODY} bytes, the most the API takes"
    }
    just_fits = client.post("/api/v1/partners", headers=headers, content=b"{" + b" " * (MAX_API_BODY - 1))
    assert just_fits.status_code == 422  # at the cap: read, and refused as bad JSON


def test_a_chunked_body_is_cut_off_once_past_the_cap(app):
    """No Content-Length (chunked): the app stops reading as soon as the cap is passed, and says 413."""
    chunk, reads, messages = b" " * (256 << 10), 0, []

    async def receive():
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": chunk, "more_body": reads < 240}  # 60 MB in all

    async def send(message):
        messages.append(message)

    scope = post_scope(
        "/api/v1/partners", (b"content-type", b"application/json"), (b"transfer-encoding", b"chunked")
    )
    run_asgi(app, scope, receive, send)
    assert messages[0]["status"] == 413
    assert reads == MAX_API_BODY // len(chunk) + 1


@pytest.mark.all_backends
@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_a_date_far_from_any_record_is_refused_not_overflowed(client, headers, day):
    # The dashboards count a year back from the as-of date: from year 1 that is no date at all.
    response = client.get(f"/api/v1/metrics/overview?as_of={day}", headers=headers)
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["query", "as_of"]
    edge = client.get("/api/v1/metrics/overview?as_of=1900-01-01&from=1900-01-01", headers=headers)
    assert edge.status_code == 200
