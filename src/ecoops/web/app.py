"""The FastAPI application: middleware, error pages, and every domain's page and API routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from sqlalchemy.exc import DataError
from starlette.middleware.sessions import SessionMiddleware

from ecoops import __version__
from ecoops.accounts.service import InvalidInput
from ecoops.automation.worker_thread import worker_lifespan
from ecoops.config import Settings, get_settings
from ecoops.db import make_engine, session_factory
from ecoops.metrics.warm import warm_lifespan
from ecoops.ops.requests import RequestObserver
from ecoops.permissions import Forbidden, NotFound
from ecoops.web.blank_query import BlankQueryValues
from ecoops.web.body_limit import BodyLimit
from ecoops.web.db_slots import DatabaseSlots, request_slots
from ecoops.web.deps import LoginRequired, request_transaction
from ecoops.web.errors import API_ERRORS, describe, problems
from ecoops.web.retry import RetryWriteConflicts
from ecoops.web.routes import api_routers, ops_routers, page_routers, peer_routers
from ecoops.web.security import SecurityHeaders
from ecoops.web.templating import render

STATIC_DIR = Path(__file__).parent / "static"


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith(("/api/", "/psi/"))


def _error(request: Request, status_code: int, message: str) -> Response:
    if _wants_json(request):
        return JSONResponse({"detail": message}, status_code=status_code)
    return render(request, "error.html", status_code=status_code, status=status_code, message=message)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, _exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={target}", status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        return _error(request, 403, str(exc))

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Response:
        return _error(request, 404, str(exc) or "not found")

    @app.exception_handler(InvalidInput)
    async def invalid(request: Request, exc: InvalidInput) -> Response:
        return _error(request, 400, str(exc))

    @app.exception_handler(DataError)
    async def unstorable(request: Request, exc: DataError) -> Response:
        # The database refused a value it cannot hold (PostgreSQL: a NUL character in text): bad input.
        reason = str(exc.orig).splitlines()[0] if exc.orig else "invalid value"
        return _error(request, 400, f"a value the database cannot store: {reason}")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        return _error(request, exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def validation(request: Request, exc: RequestValidationError) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": problems(exc)}, status_code=422)
        return _error(request, 422, f"invalid input: {describe(exc)}")


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The in-process delivery worker (ECOOPS_WORKER) and the dashboards' warming (ECOOPS_WARM_DASHBOARDS)."""
    async with worker_lifespan(app), warm_lifespan(app):
        yield


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = engine or make_engine(
        settings.effective_database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )
    app = FastAPI(
        title="ecoops",
        version=__version__,
        description=(
            "Partner ecosystem operations. Authenticate with `Authorization: Bearer <API token>`; "
            "create tokens on the API tokens page. Lists are paginated with `page` and `per_page`."
        ),
        docs_url=None,  # served by web/api_docs.py from our own copy of Swagger UI
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
        lifespan=_lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = session_factory(engine)
    if settings.sso_enabled:
        from ecoops.web.sso_pages import oidc_client

        app.state.oidc = oidc_client(settings)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie=settings.session_cookie,
        max_age=settings.session_max_age,
        same_site="lax",
        https_only=settings.https,
    )
    app.add_middleware(BlankQueryValues)  # a page form's empty field means "not given"
    app.add_middleware(SecurityHeaders, hsts=settings.https)
    app.add_middleware(BodyLimit, upload_limit=settings.import_max_upload_bytes)  # inside the retry
    app.add_middleware(RetryWriteConflicts)  # each attempt reads the session cookie afresh
    app.add_middleware(DatabaseSlots, slots=request_slots(settings))  # every attempt within one slot
    app.add_middleware(RequestObserver)  # outermost: request id on every log line, latency of all attempts
    _install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    transaction = [Depends(request_transaction, scope="function")]
    for router in page_routers():
        app.include_router(router, include_in_schema=False, dependencies=transaction)
    for router in api_routers():
        app.include_router(router, prefix="/api/v1", dependencies=transaction, responses=API_ERRORS)
    for router in peer_routers():
        app.include_router(router, include_in_schema=False, dependencies=transaction)
    for router in ops_routers():
        app.include_router(router)
    return app
