"""API tokens: the secret shown once, working on /api/v1/me, then revoked or expired; hashes only stored."""

from datetime import timedelta

from sqlalchemy import select

from ecoops.accounts import service
from ecoops.accounts.models import ApiToken
from ecoops.actors import Role
from ecoops.audit import utcnow
from tests.factories import csrf_from, make_user, sign_in


def _create(client, name="ci export", lifetime="30"):
    token = csrf_from(client.get("/tokens").text)
    return client.post("/tokens", data={"name": name, "lifetime": lifetime, "csrf_token": token})


def _secret(html):
    start = html.index('id="new-token-secret">') + len('id="new-token-secret">')
    return html[start : html.index("<", start)]


def test_secret_shown_once_and_it_works(client, session):
    user = make_user(session, Role.SALES, name="Sam Sales")
    sign_in(client, user.email)
    response = _create(client)
    assert response.status_code == 201 and response.headers["cache-control"] == "no-store"
    secret = _secret(response.text)
    assert secret.startswith("eco_") and "curl -H" in response.text
    assert secret not in client.get("/tokens").text  # never again
    stored = session.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    assert stored.token_hash != secret and secret not in stored.token_hash

    client.cookies.clear()  # the token alone, no session
    me = client.get("/api/v1/me", headers={"authorization": f"Bearer {secret}"})
    assert me.status_code == 200
    assert (me.json()["email"], me.json()["role"]) == (user.email, "sales")
    assert "read_crm" in me.json()["permissions"] and "manage_users" not in me.json()["permissions"]
    sign_in(client, user.email)
    assert "ci export" in client.get("/tokens").text


def test_revoked_and_expired_tokens_are_refused(client, session):
    user = make_user(session, Role.OPS)
    actor = service.user_actor(user)
    token, secret = service.create_api_token(
        session, actor, name="short", expires_at=utcnow() + timedelta(days=1)
    )
    headers = {"authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    token.expires_at = utcnow() - timedelta(seconds=1)
    session.flush()
    assert client.get("/api/v1/me", headers=headers).status_code == 401

    live, live_secret = service.create_api_token(session, actor, name="live")
    session.flush()
    sign_in(client, user.email)
    page = client.get("/tokens").text
    assert "expired" in page
    revoked = client.post(f"/tokens/{live.id}/revoke", data={"csrf_token": csrf_from(page)})
    assert revoked.status_code == 303
    assert client.get("/api/v1/me", headers={"authorization": f"Bearer {live_secret}"}).status_code == 401
    assert "revoked" in client.get("/tokens").text


def test_others_tokens_cannot_be_revoked_and_bad_input_is_explained(client, session):
    owner = make_user(session, Role.SALES)
    theirs, _ = service.create_api_token(session, service.user_actor(owner), name="theirs")
    session.flush()
    sign_in(client, make_user(session, Role.PARTNER_MANAGER).email)
    token = csrf_from(client.get("/tokens").text)
    assert client.post(f"/tokens/{theirs.id}/revoke", data={"csrf_token": token}).status_code == 404
    assert theirs.revoked_at is None
    nameless = _create(client, name="  ")
    assert nameless.status_code == 400 and "needs a name" in nameless.text
    assert _create(client, lifetime="9999").status_code == 400


def test_a_session_cookie_does_not_authenticate_the_api(client, session):
    sign_in(client, make_user(session, Role.ADMIN).email)
    response = client.get("/api/v1/me")
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
