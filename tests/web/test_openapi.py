"""The OpenAPI description (bearer security; a response model and a summary on every API route), and
an API reference page that works offline under our CSP."""

import re

from fastapi.routing import iter_route_contexts

from ecoops.web.app import create_app


def test_every_api_route_is_described_and_secured(settings, engine):
    app = create_app(settings, engine)
    api_routes = [r for r in iter_route_contexts(app.routes) if r.path and r.path.startswith("/api/v1/")]
    api_routes = [r for r in api_routes if r.path != app.openapi_url]
    assert len(api_routes) >= 12
    for route in api_routes:
        no_body = route.status_code == 204
        assert route.response_model is not None or no_body, f"{route.path}: no response model"
        summary = (route.endpoint.__doc__ or "").strip().split("\n")[0]
        assert summary.endswith("."), f"{route.path}: needs a docstring opening with a one-line summary"
    spec = app.openapi()
    assert spec["components"]["securitySchemes"]["apiToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token created on the API tokens page.",
    }
    for path, operations in spec["paths"].items():
        for operation in operations.values():
            assert operation["security"] == [{"apiToken": []}], path


def test_openapi_json_and_docs_page(client):
    assert client.get("/api/v1/openapi.json").json()["info"]["title"] == "ecoops"
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", docs.text, flags=re.S)
    assert scripts and all('src="/static/' in attrs and not body.strip() for attrs, body in scripts)
    assert "http" not in re.sub(r"<noscript>.*?</noscript>", "", docs.text, flags=re.S).split("<body>")[0]
    assert "script-src 'self'" in docs.headers["content-security-policy"]
    assert client.get("/static/api-docs.js").status_code == 200
