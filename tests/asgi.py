"""Driving an app or a middleware without a client: an ASGI request scope, and a way to run the call."""

from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anyio


def post_scope(path: str, *headers: tuple[bytes, bytes]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


def run_asgi(func: Callable[..., Awaitable[Any]], *args: Any) -> Any:
    """Run an ASGI call to its end on a thread of its own: a browser test's Playwright loop may
    still be running on this one (pytest-xdist runs both kinds on one worker)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(anyio.run, func, *args).result()
