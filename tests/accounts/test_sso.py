"""Single sign-on against a real OpenID Connect provider (npm's oidc-provider, started here on loopback):
the code flow with PKCE and nonce, users made on first sign-in with the role their groups give, roles
kept in step, refusals that say why, and "SSO only" leaving partner users their password."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.accounts.models import User
from ecoops.actors import Role
from ecoops.audit import AuditEvent
from ecoops.config import Settings
from ecoops.web.app import create_app
from tests.factories import PASSWORD, csrf_from, make_partner, make_partner_user, make_user
from tests.pg_server import free_port

PROVIDER = Path(__file__).with_name("oidc_provider.mjs")
CALLBACK = "http://testserver/login/sso/callback"
ACCOUNTS = {
    "ana": {
        "email": "Ana@Example.com",
        "email_verified": True,
        "name": "Ana Lund",
        "groups": ["sellers", "partner-team"],
    },
    "bo": {"email": "bo@example.com", "email_verified": True, "groups": ["finance"]},
    "dee": {"email": "dee@example.com", "email_verified": True, "groups": ["ecoops-admins"]},
    "eve": {"email": "eve@example.com", "email_verified": True, "groups": "sellers"},
    "pat": {"email": "pat@partner.example", "email_verified": True, "groups": ["sellers"]},
    "unverified": {"email": "un@example.com", "email_verified": False, "groups": ["sellers"]},
}


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        ["node", str(PROVIDER), str(port), "ecoops-test", "a client secret of some length", CALLBACK],
        env={"PATH": "/usr/bin:/bin:/usr/local/bin", "OIDC_ACCOUNTS": json.dumps(ACCOUNTS)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:  # warnings first, then "ready"
        if line.strip() == "ready":
            break
    else:
        raise AssertionError(f"the OIDC provider did not start (exit {process.wait()})")
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


def _settings(tmp_path: Path, issuer: str, **more: object) -> Settings:
    return Settings(
        env="test",
        var_dir=tmp_path / "var",
        secret_key="o" * 40,
        oidc_issuer=issuer,
        oidc_client_id="ecoops-test",
        oidc_client_secret="a client secret of some length",
        oidc_scopes="openid email profile groups",
        oidc_role_map="ecoops-admins=admin, partner-team=partner_manager, sellers=sales",
        **more,
    )


@pytest.fixture
def settings(provider: str, tmp_path: Path) -> Settings:
    """The app of the `client` fixture, with single sign-on through the provider."""
    return _settings(tmp_path, provider)


def _form(html: str) -> tuple[str, dict[str, str]]:
    action = re.search(r'<form[^>]*action="([^"]+)"', html)
    assert action, html[:500]
    fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html))
    return unescape(action.group(1)), {k: unescape(v) for k, v in fields.items()}


def sign_in_at_provider(client: TestClient, login: str, next_path: str = "/") -> httpx.Response:
    """Click "Sign in with single sign-on", sign in on the provider's pages, follow back; our answer."""
    started = client.get("/login/sso", params={"next": next_path})
    assert started.status_code == 302, started.text
    asked = parse_qs(urlsplit(started.headers["location"]).query)
    assert asked["code_challenge_method"] == ["S256"] and asked["nonce"] and asked["state"]
    with httpx.Client(follow_redirects=False, timeout=30) as browser:
        url = started.headers["location"]
        for _ in range(12):
            if url.startswith(CALLBACK):
                return client.get(url.removeprefix("http://testserver"))
            page = browser.get(url)
            if page.is_redirect:
                url = urljoin(url, page.headers["location"])
                continue
            action, fields = _form(page.text)
            if 'name="login"' in page.text:
                fields.update(login=login, password="anything")
            answer = browser.post(urljoin(url, action), data=fields)
            assert answer.is_redirect, answer.text[:500]
            url = urljoin(url, answer.headers["location"])
    raise AssertionError("never came back from the provider")


def test_first_sign_in_makes_the_user_with_the_most_powerful_mapped_role(
    client: TestClient, session: Session
) -> None:
    back = sign_in_at_provider(client, "ana", "/partners")
    assert (back.status_code, back.headers["location"]) == (303, "/partners")
    assert client.get("/partners").status_code == 200
    user = session.scalars(select(User).where(User.email == "ana@example.com")).one()
    assert (user.name, user.role, user.password_hash) == ("Ana Lund", Role.PARTNER_MANAGER.value, "")
    created = session.scalars(select(AuditEvent).where(AuditEvent.action == "user.created")).all()
    assert [e.details.get("via") for e in created if e.target_id == str(user.id)] == ["sso"]
    # No password was set: the password form cannot sign this user in.
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/partners").text)})
    token = csrf_from(client.get("/login").text)
    form = {"email": "ana@example.com", "password": "", "csrf_token": token}
    assert client.post("/login", data=form).status_code in (401, 422)


def test_the_role_follows_the_groups_at_each_sign_in(client: TestClient, session: Session) -> None:
    make_user(session, Role.VIEWER, email="dee@example.com")
    eve = make_user(session, Role.ADMIN, email="eve@example.com")
    session.flush()
    assert sign_in_at_provider(client, "dee").status_code == 303
    assert client.get("/users").status_code == 200  # admin now: its groups say so
    client.cookies.clear()
    assert sign_in_at_provider(client, "eve").status_code == 303  # a single group as a string
    session.refresh(eve)
    assert eve.role == Role.SALES.value
    assert client.get("/users").status_code == 403


@pytest.mark.parametrize(
    ("login", "said"),
    [
        ("bo", "in no group that has a role"),
        ("unverified", "has not verified un@example.com"),
        ("pat", "is a partner's account"),
    ],
)
def test_refusals_say_why_and_sign_no_one_in(
    client: TestClient, session: Session, login: str, said: str
) -> None:
    make_partner_user(session, make_partner(session), email="pat@partner.example")
    session.flush()
    refused = sign_in_at_provider(client, login)
    assert refused.status_code == 403 and said in unescape(refused.text)
    assert client.get("/partners").status_code in (302, 303)  # still signed out
    assert session.scalar(select(User.id).where(User.email == ACCOUNTS[login]["email"])) is None


def test_a_deactivated_user_is_refused(client: TestClient, session: Session) -> None:
    make_user(session, Role.SALES, email="eve@example.com").is_active = False
    session.flush()
    refused = sign_in_at_provider(client, "eve")
    assert refused.status_code == 403 and "deactivated" in refused.text


def test_a_callback_with_another_state_is_refused(client: TestClient) -> None:
    started = client.get("/login/sso")
    assert started.status_code == 302
    forged = client.get("/login/sso/callback", params={"code": "stolen", "state": "not-ours"})
    assert forged.status_code == 400 and "Single sign-on failed" in forged.text
    assert client.get("/partners").status_code in (302, 303)


def test_sso_only_refuses_staff_passwords_but_not_partner_users(
    provider: str, tmp_path: Path, engine, sessions, session: Session
) -> None:
    make_user(session, Role.ADMIN, email="staff@example.com")
    make_partner_user(session, make_partner(session), email="someone@partner.example")
    session.flush()
    app = create_app(_settings(tmp_path, provider, sso_only=True), engine)
    app.state.sessions = sessions
    with TestClient(app, follow_redirects=False) as client:
        page = client.get("/login")
        assert "Sign in with single sign-on" in page.text and "for partner users" in page.text
        form = {"email": "staff@example.com", "password": PASSWORD, "csrf_token": csrf_from(page.text)}
        staff = client.post("/login", data=form)
        assert staff.status_code == 403 and "single sign-on" in staff.text
        form["email"] = "someone@partner.example"
        assert client.post("/login", data=form).headers["location"] == "/portal"


def test_settings_refuse_half_a_setup_and_unknown_roles(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="together"):
        Settings(env="test", var_dir=tmp_path, secret_key="o" * 40, oidc_issuer="https://idp.example")
    with pytest.raises(ValueError, match="not group=role"):
        Settings(env="test", var_dir=tmp_path, secret_key="o" * 40, oidc_role_map="admins=boss")
    with pytest.raises(ValueError, match="SSO_ONLY"):
        Settings(env="test", var_dir=tmp_path, secret_key="o" * 40, sso_only=True)
