"""Sessions end on the server: sign-out and a password change end them, whatever cookie is kept.

The sign-in throttle is kept in the database: it holds across web processes, per e-mail and per
client address.
"""

from datetime import timedelta

from fastapi.testclient import TestClient

from ecoops.accounts import signin
from ecoops.accounts.models import WebSession
from ecoops.actors import Role
from ecoops.audit import utcnow
from ecoops.web.app import create_app
from tests.factories import PASSWORD, csrf_from, make_user, sign_in


def _post_login(client, email, password):
    token = csrf_from(client.get("/login").text)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def _second_client(app):
    return TestClient(app, base_url="http://testserver", follow_redirects=False)


def test_a_copied_cookie_is_worthless_after_sign_out(client, session, app):
    user = make_user(session, Role.VIEWER)
    sign_in(client, user.email)
    copied = dict(client.cookies)
    assert client.get("/partners").status_code == 200
    token = csrf_from(client.get("/partners").text)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    with _second_client(app) as thief:
        thief.cookies.update(copied)
        response = thief.get("/partners")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_an_expired_session_is_refused(client, session):
    user = make_user(session, Role.VIEWER)
    sign_in(client, user.email)
    assert client.get("/partners").status_code == 200
    for row in session.query(WebSession).filter_by(user_id=user.id):
        row.expires_at = utcnow() - timedelta(seconds=1)
    session.flush()
    assert client.get("/partners").status_code == 303


def test_password_change_ends_every_other_session(client, session, app):
    user = make_user(session, Role.VIEWER)
    sign_in(client, user.email)
    with _second_client(app) as other:
        sign_in(other, user.email)
        assert other.get("/partners").status_code == 200
        token = csrf_from(client.get("/account/password").text)
        new = "a brand new passphrase"
        response = client.post(
            "/account/password",
            data={"current_password": PASSWORD, "new_password": new, "csrf_token": token},
        )
        assert response.status_code == 303
        assert other.get("/partners").status_code == 303  # the other browser is signed out
    assert client.get("/partners").status_code == 200  # the one that changed it stays in
    with _second_client(app) as fresh:
        assert _post_login(fresh, user.email, PASSWORD).status_code == 401
        assert _post_login(fresh, user.email, new).status_code == 303


def test_password_change_needs_the_current_password(client, session):
    user = make_user(session, Role.VIEWER)
    sign_in(client, user.email)
    before = user.password_hash
    token = csrf_from(client.get("/account/password").text)
    response = client.post(
        "/account/password",
        data={
            "current_password": "not it at all",
            "new_password": "a brand new passphrase",
            "csrf_token": token,
        },
    )
    assert response.status_code == 400
    assert "current password is wrong" in response.text
    session.refresh(user)
    assert user.password_hash == before


def test_throttle_per_email_starts_at_the_fifth_failure(client, session):
    user = make_user(session, Role.VIEWER)
    for _ in range(signin.MAX_FAILURES_PER_EMAIL - 1):
        assert _post_login(client, user.email, "wrong password!").status_code == 401
    assert _post_login(client, user.email, PASSWORD).status_code == 303  # four failures: still let in
    # A success forgives them: five more failures are needed before the e-mail is held back.
    with TestClient(client.app, base_url="http://testserver", follow_redirects=False) as again:
        for _ in range(signin.MAX_FAILURES_PER_EMAIL):
            assert _post_login(again, user.email, "wrong password!").status_code == 401
        assert _post_login(again, user.email, PASSWORD).status_code == 429


def test_throttle_per_address_across_emails(client, session):
    """One address guessing many e-mails is held back, even for an e-mail it has not tried."""
    victim = make_user(session, Role.VIEWER)
    for n in range(signin.MAX_FAILURES_PER_ADDRESS):
        assert _post_login(client, f"guess{n}@example.com", "wrong password!").status_code == 401
    assert _post_login(client, victim.email, PASSWORD).status_code == 429


def test_throttle_holds_across_processes(settings, engine, sessions, session):
    """Two web processes (two apps on one database) share the count."""
    user = make_user(session, Role.VIEWER)
    session.flush()
    apps = [create_app(settings, engine) for _ in range(2)]
    for application in apps:
        application.state.sessions = sessions
    clients = [_second_client(application) for application in apps]
    for n in range(signin.MAX_FAILURES_PER_EMAIL):
        assert _post_login(clients[n % 2], user.email, "wrong password!").status_code == 401
    assert _post_login(clients[0], user.email, PASSWORD).status_code == 429
    assert _post_login(clients[1], user.email, PASSWORD).status_code == 429
    for one in clients:
        one.close()


def test_old_failures_are_forgotten(session):
    now = utcnow()
    for _ in range(signin.MAX_FAILURES_PER_EMAIL):
        signin.record_failure(session, "late@example.com", "10.0.0.1", now - signin.THROTTLE_WINDOW)
    session.flush()
    assert not signin.throttled(session, "late@example.com", "10.0.0.2")
    signin.record_failure(session, "late@example.com", "10.0.0.1", now)
    session.flush()
    assert session.query(signin.SignInFailure).filter_by(key="email:late@example.com").count() == 1


def test_unsafe_page_request_from_another_site_is_refused(client, session):
    user = make_user(session, Role.VIEWER)
    sign_in(client, user.email)
    token = csrf_from(client.get("/partners").text)
    elsewhere = client.post("/logout", data={"csrf_token": token}, headers={"origin": "https://evil.example"})
    assert elsewhere.status_code == 403
    referer = client.post(
        "/logout", data={"csrf_token": token}, headers={"referer": "https://evil.example/page"}
    )
    assert referer.status_code == 403
    assert client.get("/partners").status_code == 200  # still signed in
    ours = client.post("/logout", data={"csrf_token": token}, headers={"origin": "http://testserver"})
    assert ours.status_code == 303


def test_signed_in_pages_are_not_cached(client, session):
    user = make_user(session, Role.VIEWER)
    sign_in(client, user.email)
    assert client.get("/partners").headers["cache-control"] == "no-store"
    assert "no-store" not in client.get("/static/app.css").headers.get("cache-control", "")


def test_the_session_cookie_takes_its_name_from_the_setting(settings, engine, sessions, session):
    # Two instances on one host (the demo and its partner, docs/demo.md) must not overwrite each other's.
    app = create_app(settings.model_copy(update={"session_cookie": "ecoops_session_8001"}), engine)
    app.state.sessions = sessions
    user = make_user(session, Role.VIEWER)
    session.flush()
    with _second_client(app) as browser:
        sign_in(browser, user.email)
        assert set(browser.cookies) == {"ecoops_session_8001"}
        assert browser.get("/partners").status_code == 200
