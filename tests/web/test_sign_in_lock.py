"""A sign-in checks the password before it writes: on SQLite, argon2 does not hold the one write lock.

Each test runs on a database file, as the product does, with the password check instrumented: while
the check runs, another connection writes. Had the sign-in begun its write transaction first, that
write would wait behind it and give up ("database is locked").
"""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.accounts import service
from ecoops.accounts.models import User
from ecoops.actors import Role
from ecoops.config import Settings
from ecoops.db import make_engine, migrate, session_factory, transaction
from ecoops.web.app import create_app
from tests.factories import PASSWORD, csrf_from, make_user
from tests.impatient_writer import impatient_writer


@pytest.fixture
def site(tmp_path) -> Iterator[tuple[TestClient, object]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'site.db'}")
    migrate(engine)
    with transaction(session_factory(engine)) as session:
        make_user(session, Role.VIEWER, email="viewer@example.com")
    app = create_app(Settings(env="test", var_dir=tmp_path / "var", secret_key="s" * 40), engine)
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        yield client, engine
    engine.dispose()


def _while_checking(monkeypatch, engine, act) -> list[BaseException]:
    """Run `act(connection)` on another connection during the password check; its errors are returned."""
    errors: list[BaseException] = []
    verify = service._verify

    def verify_while_acting(password_hash: str, password: str) -> bool:
        try:
            with impatient_writer(engine) as other:
                act(other)
        except BaseException as exc:
            errors.append(exc)
        return verify(password_hash, password)

    monkeypatch.setattr(service, "_verify", verify_while_acting)
    return errors


def _login(client: TestClient, email: str, password: str):
    token = csrf_from(client.get("/login").text)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def test_others_write_while_a_sign_in_checks_its_password(site, monkeypatch):
    client, engine = site
    errors = _while_checking(
        monkeypatch, engine, lambda other: other.execute("UPDATE users SET name = 'Renamed'")
    )
    response = _login(client, "viewer@example.com", PASSWORD)
    assert errors == []
    assert response.status_code == 303
    with Session(engine) as session:
        user = session.scalar(select(User).where(User.email == "viewer@example.com"))
        assert user is not None
        assert user.name == "Renamed"  # the concurrent write landed, and the sign-in kept it
        assert user.last_login_at is not None


def test_a_wrong_password_also_checks_outside_the_lock(site, monkeypatch):
    client, engine = site
    errors = _while_checking(
        monkeypatch, engine, lambda other: other.execute("UPDATE users SET name = 'Renamed'")
    )
    assert _login(client, "viewer@example.com", "not the password").status_code == 401
    assert _login(client, "nobody@example.com", "not the password").status_code == 401  # dummy check
    assert errors == []


def test_a_password_changed_during_the_check_is_not_signed_in_with(site, monkeypatch):
    client, engine = site
    other_hash = service.hash_password("someone else's new password")
    errors = _while_checking(
        monkeypatch,
        engine,
        lambda other: other.execute("UPDATE users SET password_hash = ?", (other_hash,)),
    )
    assert _login(client, "viewer@example.com", PASSWORD).status_code == 401
    assert errors == []
    assert client.get("/partners").status_code == 303  # not signed in


def test_a_user_deactivated_during_the_check_is_not_signed_in(site, monkeypatch):
    client, engine = site
    errors = _while_checking(
        monkeypatch, engine, lambda other: other.execute("UPDATE users SET is_active = 0")
    )
    assert _login(client, "viewer@example.com", PASSWORD).status_code == 401
    assert errors == []


def test_a_password_change_checks_outside_the_lock_too(site, monkeypatch):
    client, engine = site
    assert _login(client, "viewer@example.com", PASSWORD).status_code == 303
    errors = _while_checking(
        monkeypatch, engine, lambda other: other.execute("UPDATE users SET name = 'Renamed'")
    )
    token = csrf_from(client.get("/account/password").text)
    new = "a brand new passphrase"
    response = client.post(
        "/account/password", data={"current_password": PASSWORD, "new_password": new, "csrf_token": token}
    )
    assert response.status_code == 303
    assert errors == []
    with Session(engine) as session:
        user = session.scalar(select(User).where(User.email == "viewer@example.com"))
        assert user is not None and user.name == "Renamed"
        assert service._hasher.verify(user.password_hash, new)
