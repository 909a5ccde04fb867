"""Requests beyond the database pool wait their turn instead of timing out on it (web/db_slots.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from starlette.types import Receive, Scope, Send

from ecoops.config import Settings
from ecoops.web.app import create_app
from ecoops.web.db_slots import RESERVED, DatabaseSlots, request_slots
from tests.asgi import run_asgi


def test_no_more_requests_than_slots_run_at_once_and_every_one_is_answered() -> None:
    running, most = 0, 0

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.05)
        running -= 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": scope["path"].encode()})

    async def burst() -> list[int]:
        transport = httpx.ASGITransport(app=DatabaseSlots(inner, slots=3))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            answers = await asyncio.gather(*(client.get(f"/page/{n}") for n in range(12)))
        return [answer.status_code for answer in answers]

    assert run_asgi(burst) == [200] * 12
    assert most == 3

    # Static files hold no connection: not counted.
    async def static() -> None:
        transport = httpx.ASGITransport(app=DatabaseSlots(inner, slots=1))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            await asyncio.gather(*(client.get(f"/static/{n}.css") for n in range(4)))

    most = 0
    run_asgi(static)
    assert most == 4


def test_the_pool_and_the_slots_follow_the_settings(tmp_path: Path) -> None:
    settings = Settings(
        env="test",
        var_dir=tmp_path / "var",
        secret_key="t" * 40,
        database_url=f"sqlite:///{tmp_path / 'slots.db'}",
        db_pool_size=7,
        db_max_overflow=5,
    )
    app = create_app(settings)
    assert app.state.engine.pool.size() == 7 and app.state.engine.pool._max_overflow == 5
    assert request_slots(settings) == 7 + 5 - RESERVED
    assert request_slots(settings.model_copy(update={"db_pool_size": 1, "db_max_overflow": 0})) == 1
    app.state.engine.dispose()
