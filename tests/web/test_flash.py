"""Flash messages survive to the next page even when one is already waiting."""

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse
from fastapi.testclient import TestClient
from starlette.middleware.sessions import SessionMiddleware

from ecoops.web.templating import _pop_flashes, flash


def _app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(SessionMiddleware, secret_key="test")

    @app.post("/say/{text}")
    def say(request: Request, text: str) -> PlainTextResponse:
        flash(request, text)
        return PlainTextResponse("ok")

    @app.get("/read")
    def read(request: Request) -> PlainTextResponse:
        return PlainTextResponse("|".join(f["message"] for f in _pop_flashes(request)))

    return app


def test_a_second_flash_before_the_first_is_shown_is_kept():
    client = TestClient(_app())
    client.post("/say/first")
    client.post("/say/second")
    assert client.get("/read").text == "first|second"
    assert client.get("/read").text == ""
