"""Admins add users and partner users, and deactivate or reactivate them; each change is audited."""

import pytest
from sqlalchemy import select

from ecoops.accounts import service
from ecoops.actors import Role
from ecoops.audit import AuditEvent
from tests.factories import PASSWORD, csrf_from, make_partner, make_user, sign_in


def _actions(session):
    return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_create_user_with_validation_shown_on_the_form(client, session):
    sign_in(client, make_user(session, Role.ADMIN).email)
    page = client.get("/users")
    assert "At least 10 characters" in page.text
    token = csrf_from(page.text)
    short = client.post(
        "/users",
        data={
            "email": "new@example.com",
            "name": "Nia",
            "role": "ops",
            "password": "short",
            "csrf_token": token,
        },
    )
    assert short.status_code == 400
    assert "password must have at least 10 characters" in short.text
    assert 'value="new@example.com"' in short.text and '<option value="ops" selected' in short.text
    created = client.post(
        "/users",
        data={
            "email": "new@example.com",
            "name": "Nia",
            "role": "ops",
            "password": PASSWORD,
            "csrf_token": token,
        },
    )
    assert created.status_code == 303
    assert "new@example.com" in client.get("/users").text
    again = client.post(
        "/users", data={"email": "NEW@example.com", "role": "ops", "password": PASSWORD, "csrf_token": token}
    )
    assert again.status_code == 400 and "already exists" in again.text


def test_deactivated_users_lose_their_session_and_tokens_until_reactivated(client, session):
    admin = make_user(session, Role.ADMIN)
    sales = make_user(session, Role.SALES)
    _token, secret = service.create_api_token(session, service.user_actor(sales), name="bi")
    session.flush()
    sign_in(client, admin.email)
    token = csrf_from(client.get("/users").text)
    assert (
        client.post(f"/users/{sales.id}/status", data={"active": "false", "csrf_token": token}).status_code
        == 303
    )
    assert client.get("/api/v1/me", headers={"authorization": f"Bearer {secret}"}).status_code == 401
    session.expire_all()  # the app changed the row through its own session
    assert service.authenticate(session, sales.email, PASSWORD) is None
    assert (
        client.post(f"/users/{sales.id}/status", data={"active": "true", "csrf_token": token}).status_code
        == 303
    )
    assert client.get("/api/v1/me", headers={"authorization": f"Bearer {secret}"}).status_code == 200
    assert [a for a in _actions(session) if a.endswith("activated")] == [
        "user.deactivated",
        "user.reactivated",
    ]


def test_admins_cannot_lock_themselves_out(client, session):
    admin = make_user(session, Role.ADMIN)
    sign_in(client, admin.email)
    token = csrf_from(client.get("/users").text)
    response = client.post(f"/users/{admin.id}/status", data={"active": "false", "csrf_token": token})
    assert response.status_code == 400 and "your own account" in response.text
    assert admin.is_active


def test_partner_users_from_the_partner_page(client, session):
    partner = make_partner(session, name="Acme Integrations")
    sign_in(client, make_user(session, Role.ADMIN).email)
    page = client.get(f"/partners/{partner.id}").text
    assert "No contact at Acme Integrations yet" in page
    form = {
        "partner_id": str(partner.id),
        "email": "pat@acme.example",
        "name": "Pat",
        "password": PASSWORD,
        "return_to": f"/partners/{partner.id}",
        "csrf_token": csrf_from(page),
    }
    response = client.post("/partner-users", data=form)
    assert response.headers["location"] == f"/partners/{partner.id}"
    page = client.get(f"/partners/{partner.id}").text
    assert "pat@acme.example" in page and "Created pat@acme.example; they sign in at /login" in page
    duplicate = client.post("/partner-users", data=form | {"return_to": "https://evil.example/"})
    assert duplicate.headers["location"] == "/"
    assert "already exists" in client.get("/users?show=partner_users").text
    assert _actions(session).count("partner_user.created") == 1


def test_one_email_signs_in_one_user(session):
    user = make_user(session, Role.VIEWER)
    with pytest.raises(service.InvalidInput, match="already exists"):
        service.create_partner_user(
            session,
            service.user_actor(make_user(session, Role.ADMIN)),
            partner_id=make_partner(session).id,
            email=user.email,
            name="",
            password=PASSWORD,
        )


def test_non_admins_see_no_partner_users_on_partner_pages(client, session):
    partner = make_partner(session)
    sign_in(client, make_user(session, Role.OPS).email)
    assert "Partner users" not in client.get(f"/partners/{partner.id}").text
