"""Every route of the app, called as every role, against the expectations in access_table.py.

A route without a row fails here; unsafe routes carry a valid CSRF token so the check is about roles.
Each request runs in a SAVEPOINT that is rolled back, so every role meets the same records.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session, sessionmaker

from ecoops.accounts import service as accounts
from ecoops.accounts.models import PartnerUser, User
from ecoops.actors import Role
from ecoops.audit import AuditEvent
from ecoops.config import Settings
from ecoops.db import make_engine, migrate
from ecoops.web.app import create_app
from ecoops.web.security import UNSAFE_METHODS
from tests.factories import PASSWORD, csrf_from, make_partner, make_partner_user, make_user, sign_in
from tests.web.access_table import (
    ANONYMOUS,
    LOGIN,
    PARTNER_USER,
    PATH_VALUES,
    ROLES,
    ROUTES,
    Outcome,
    Row,
    app_routes,
)

SETTINGS = Settings(env="test", secret_key="m" * 40, demo=True)  # demo: its pages are checked too
APP_ROUTES = sorted(set(app_routes(create_app(SETTINGS, make_engine("sqlite://")))))
UNSAFE_ROUTES = [route for route in APP_ROUTES if route[0] in UNSAFE_METHODS]


@dataclass
class Caller:
    cookies: dict[str, str]
    csrf: str
    token: str | None  # an API token of the caller's own, where its role could have one
    token_id: int | None


@dataclass
class Matrix:
    client: TestClient
    connection: Connection
    sessions: sessionmaker[Session]
    callers: dict[str, Caller]
    values: dict[str, str]

    def call(self, method: str, path: str, role: str, *, csrf: bool = True) -> tuple[Outcome, list[str]]:
        """Call a route as `role` in a rolled-back SAVEPOINT: its outcome and the audit actions it wrote."""
        row = ROUTES.get((method, path), Row({}))
        caller = self.callers[role]
        values = self.values | ({"token_id": str(caller.token_id)} if caller.token_id else {})
        headers = {"authorization": f"Bearer {caller.token}"} if caller.token else {}
        form = {key: str(value).format(**values) for key, value in (row.form or {}).items()}
        is_api = path.startswith(("/api/", "/psi/"))  # /psi/v1: server to server, no session
        if csrf and method in UNSAFE_METHODS and not is_api:
            form["csrf_token"] = caller.csrf
        savepoint = self.connection.begin_nested()
        try:
            before = self._last_audit_id()
            self.client.cookies.clear()
            self.client.cookies.update(caller.cookies)
            response = self.client.request(
                method,
                path.format(**values),
                headers=headers,
                data=form or None,
                json=row.json if is_api else None,
                files=row.files,
            )
            with self.sessions() as session:
                actions = list(session.scalars(select(AuditEvent.action).where(AuditEvent.id > before)))
        finally:
            savepoint.rollback()
        return _outcome(response), actions

    def _last_audit_id(self) -> int:
        with self.sessions() as session:
            return session.scalar(select(func.max(AuditEvent.id))) or 0


def _outcome(response: Response) -> Outcome:
    if response.status_code == 303 and response.headers["location"].startswith("/login"):
        return LOGIN
    return response.status_code


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matrix]:
    folder = Path(tmp_path_factory.mktemp("matrix"))
    settings = SETTINGS.model_copy(update={"var_dir": folder / "var"})
    engine = make_engine(f"sqlite:///{folder / 'matrix.db'}")
    migrate(engine)
    with engine.connect() as connection:
        outer = connection.begin()
        sessions = sessionmaker(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        app = create_app(settings, engine)
        app.state.sessions = sessions
        with sessions() as session, TestClient(app, follow_redirects=False) as client:
            emails = {role.value: make_user(session, role).email for role in Role}
            emails[PARTNER_USER] = make_partner_user(session, make_partner(session, name="Own partner")).email
            values = {name: maker(session, settings) for name, maker in PATH_VALUES.items()}
            values |= {"viewer_email": emails[Role.VIEWER.value], "password": PASSWORD}
            session.commit()
            callers = {role: _sign_in(client, emails.get(role)) for role in ROLES}
            with sessions() as tokens_session:
                _give_tokens(tokens_session, callers, emails)
                tokens_session.commit()
            yield Matrix(client, connection, sessions, callers, values)
        outer.rollback()
    engine.dispose()


def _sign_in(client: TestClient, email: str | None) -> Caller:
    client.cookies.clear()
    if email is not None:
        sign_in(client, email)
    # Any page carries the session's CSRF token; the login page is open to everyone.
    login_page = client.get("/login", params={"next": "/"}) if email is None else None
    html = login_page.text if login_page is not None else _any_page_with_token(client)
    return Caller(cookies=dict(client.cookies), csrf=csrf_from(html), token=None, token_id=None)


def _any_page_with_token(client: TestClient) -> str:
    """A signed-in page with the sign-out form (and so the CSRF token) on it."""
    response = client.get("/", follow_redirects=True)
    assert response.status_code == 200, response.text
    return response.text


def _give_tokens(session: Session, callers: dict[str, Caller], emails: dict[str, str]) -> None:
    """A token for every role and the partner user; a viewer's made directly, as if before a demotion."""
    for role in Role:
        user = session.scalar(select(User).where(User.email == emails[role.value]))
        assert user is not None
        actor = accounts.user_actor(user)
        if role == Role.VIEWER:
            actor = replace(actor, role=Role.SALES)
        token, secret = accounts.create_api_token(session, actor, name=f"{role.value} token")
        callers[role.value].token, callers[role.value].token_id = secret, token.id
    partner_user = session.scalar(select(PartnerUser).where(PartnerUser.email == emails[PARTNER_USER]))
    assert partner_user is not None
    token, secret = accounts.create_api_token(
        session, accounts.partner_user_actor(partner_user), name="theirs"
    )
    callers[PARTNER_USER].token, callers[PARTNER_USER].token_id = secret, token.id


@pytest.mark.parametrize(("method", "path"), APP_ROUTES, ids=[f"{m} {p}" for m, p in APP_ROUTES])
def test_route_answers_each_role_as_declared(matrix: Matrix, method: str, path: str) -> None:
    row = ROUTES.get((method, path))
    if row is None:
        pytest.fail(f"{method} {path} has no row in tests/web/access_table.py: declare who may call it")
    assert set(row.expect) == set(ROLES), f"{method} {path}: declare every role, {ROLES}"
    actual = {role: matrix.call(method, path, role)[0] for role in ROLES}
    assert actual == row.expect


def test_every_declared_route_exists() -> None:
    stale = sorted(set(ROUTES) - set(APP_ROUTES))
    assert not stale, f"rows for routes the app does not have (renamed or removed?): {stale}"


def _changes_state(row: Row, role: str) -> bool:
    outcome = row.expect[role]
    if not row.changes_state:
        return False
    if outcome == LOGIN:  # signing out changes a session only when there is one
        return role != ANONYMOUS and row is ROUTES[("POST", "/logout")]
    return isinstance(outcome, int) and 200 <= outcome < 400


@pytest.mark.parametrize(("method", "path"), UNSAFE_ROUTES, ids=[f"{m} {p}" for m, p in UNSAFE_ROUTES])
def test_state_changes_write_an_audit_event_and_refusals_none(matrix: Matrix, method: str, path: str) -> None:
    row = ROUTES[(method, path)]
    for role in ROLES:
        _, actions = matrix.call(method, path, role)
        if _changes_state(row, role):
            assert actions, f"{method} {path} as {role} changed state without an audit event"
        else:
            assert not actions, f"{method} {path} as {role} was refused yet wrote {actions}"


PAGE_UNSAFE_ROUTES = [route for route in UNSAFE_ROUTES if not route[1].startswith(("/api/", "/psi/"))]


@pytest.mark.parametrize(
    ("method", "path"), PAGE_UNSAFE_ROUTES, ids=[f"{m} {p}" for m, p in PAGE_UNSAFE_ROUTES]
)
def test_unsafe_pages_refuse_requests_without_the_csrf_token(matrix: Matrix, method: str, path: str) -> None:
    for role in (Role.ADMIN.value, ANONYMOUS):
        outcome, actions = matrix.call(method, path, role, csrf=False)
        assert (outcome, actions) == (403, []), f"{method} {path} as {role} without a CSRF token"


def _menu(matrix: Matrix, role: str) -> set[str]:
    """The top bar's links as `role` sees them, read from a page every signed-in caller may open."""
    matrix.client.cookies.clear()
    matrix.client.cookies.update(matrix.callers[role].cookies)
    page = matrix.client.get("/account/password").text
    nav = page.split("<nav>", 1)[1].split("</nav>", 1)[0]
    return set(re.findall(r'href="([^"]+)"', nav))


def test_the_menu_offers_each_role_exactly_the_pages_it_may_open(matrix: Matrix) -> None:
    signed_in_roles = [role for role in ROLES if role != ANONYMOUS]
    menus = {role: _menu(matrix, role) for role in signed_in_roles}
    offered = set().union(*menus.values())
    assert {"/users", "/partners", "/dashboards", "/portal/overlaps"} <= offered
    opens = {"/dashboards": 303}  # forwards to the program overview; every other entry is a page itself
    for role in signed_in_roles:
        may_open = {href for href in offered if ROUTES[("GET", href)].expect[role] == opens.get(href, 200)}
        assert menus[role] == may_open, role
