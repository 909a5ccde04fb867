"""Signing in: argon2id passwords, fresh sessions, CSRF on the form, throttling, safe redirects."""

import argon2
from argon2 import PasswordHasher

from ecoops.accounts.models import User
from ecoops.actors import Role
from tests.factories import PASSWORD, csrf_from, make_partner, make_partner_user, make_user, sign_in


def test_sign_in_and_out(client, session):
    user = make_user(session, Role.VIEWER)
    assert user.password_hash.startswith("$argon2id$")
    assert client.get("/partners").status_code == 303
    sign_in(client, user.email)
    assert client.get("/").headers["location"] == "/partners"
    token = csrf_from(client.get("/partners").text)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    assert client.get("/partners").status_code == 303


def test_passwords_are_hashed_at_owasps_argon2id_minimum_and_older_hashes_rehashed_at_sign_in(
    client, session
):
    user = make_user(session, Role.VIEWER)
    owasp = argon2.Parameters(
        type=argon2.Type.ID,
        version=19,
        salt_len=16,
        hash_len=32,
        time_cost=2,
        memory_cost=19 * 1024,
        parallelism=1,
    )
    assert argon2.extract_parameters(user.password_hash) == owasp
    # A hash made with argon2-cffi's default (RFC 9106) parameters, as stored before.
    user.password_hash = PasswordHasher().hash(PASSWORD)
    session.commit()
    assert argon2.extract_parameters(user.password_hash).memory_cost == 64 * 1024
    sign_in(client, user.email)
    session.expire_all()
    stored = session.get(User, user.id).password_hash
    assert argon2.extract_parameters(stored) == owasp
    assert PasswordHasher().verify(stored, PASSWORD)  # the same password, hashed anew


def test_wrong_password_and_throttle(client, session):
    user = make_user(session, Role.VIEWER, email="throttle@example.com")
    token = csrf_from(client.get("/login").text)
    for _ in range(5):
        r = client.post(
            "/login", data={"email": user.email, "password": "wrong password!", "csrf_token": token}
        )
        assert r.status_code == 401
        assert "Wrong e-mail or password" in r.text
    r = client.post(
        "/login", data={"email": user.email, "password": "correct horse battery", "csrf_token": token}
    )
    assert r.status_code == 429


def test_login_form_requires_csrf(client, session):
    user = make_user(session)
    client.get("/login")
    r = client.post("/login", data={"email": user.email, "password": "correct horse battery"})
    assert r.status_code == 403


def test_open_redirect_refused(client, session):
    user = make_user(session, email="redirect@example.com")
    token = csrf_from(client.get("/login").text)
    r = client.post(
        "/login",
        data={
            "email": user.email,
            "password": "correct horse battery",
            "csrf_token": token,
            "next": "//evil.example/",
        },
    )
    assert r.headers["location"] == "/"


def test_partner_user_lands_in_portal(client, session):
    partner_user = make_partner_user(session, make_partner(session))
    sign_in(client, partner_user.email)
    assert client.get("/").headers["location"] == "/portal"


def test_security_headers(client):
    r = client.get("/login")
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
