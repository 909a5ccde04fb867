"""Partner contacts with a role and an access (portal or e-mail only), edited by admins and by partner
admins for their own partner; internal users' roles changed by admins, never leaving the workspace
without an active admin; nurture steps aimed at one contact role."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from ecoops.accounts import service
from ecoops.accounts.models import PartnerUser, User
from ecoops.actors import Role
from ecoops.audit import AuditEvent
from ecoops.automation.nurture.runner import run_nurture
from ecoops.config import Settings
from ecoops.web.app import create_app
from tests.at_once import at_once
from tests.automation.nurture.conftest import at, deliveries, make_sequence, move, step
from tests.factories import PASSWORD, csrf_from, make_partner, make_partner_user, make_user, sign_in


def _contact(session: Session, email: str) -> PartnerUser:
    return session.scalars(select(PartnerUser).where(PartnerUser.email == email)).one()


def test_an_email_only_contact_has_no_password_and_cannot_sign_in(client, session):
    partner = make_partner(session, name="Acme Cloud")
    sign_in(client, make_user(session, Role.ADMIN).email)
    token = csrf_from(client.get(f"/partners/{partner.id}").text)
    added = client.post(
        "/partner-users",
        data={
            "partner_id": partner.id,
            "email": "cs@acme.example",
            "name": "Casey CS",
            "contact_role": "cs",
            "access": "email",
            "csrf_token": token,
            "return_to": f"/partners/{partner.id}",
        },
    )
    assert added.status_code == 303
    contact = _contact(session, "cs@acme.example")
    assert (contact.contact_role, contact.can_sign_in, contact.password_hash) == ("cs", False, "")
    page = client.get(f"/partners/{partner.id}").text
    assert "Casey CS" in page and "customer success" in page and "e-mail only" in page
    assert service.authenticate(session, "cs@acme.example", "") is None
    assert service.authenticate(session, "cs@acme.example", PASSWORD) is None


def test_a_portal_contact_needs_a_password_and_an_unknown_role_is_named(client, session):
    partner = make_partner(session)
    sign_in(client, make_user(session, Role.ADMIN).email)
    token = csrf_from(client.get("/users?show=partner_users").text)
    base = {"partner_id": partner.id, "email": "new@acme.example", "csrf_token": token}
    no_password = client.post("/partner-users", data=base | {"access": "portal"}, follow_redirects=True)
    assert "password must have at least 10 characters" in no_password.text
    bad_role = client.post(
        "/partner-users", data=base | {"contact_role": "ceo", "password": PASSWORD}, follow_redirects=True
    )
    assert "unknown contact role &#39;ceo&#39;" in bad_role.text
    assert session.scalar(select(func.count()).select_from(PartnerUser)) == 0


def test_taking_sign_in_away_ends_the_contacts_session_and_giving_it_back_needs_a_password(client, session):
    partner = make_partner(session)
    pat = make_partner_user(session, partner, email="pat@acme.example")
    session.commit()
    portal = TestClient(client.app, follow_redirects=False)
    sign_in(portal, pat.email)
    assert portal.get("/portal", follow_redirects=False).status_code == 200

    sign_in(client, make_user(session, Role.ADMIN).email)
    token = csrf_from(client.get("/users?show=partner_users").text)
    edit = {"contact_role": "sales", "csrf_token": token}
    assert client.post(f"/partner-users/{pat.id}", data=edit | {"access": "email"}).status_code == 303
    session.refresh(pat)
    assert (pat.can_sign_in, pat.password_hash, pat.contact_role) == (False, "", "sales")
    assert portal.get("/portal", follow_redirects=False).headers["location"].startswith("/login")

    refused = client.post(f"/partner-users/{pat.id}", data=edit | {"access": "portal"}, follow_redirects=True)
    assert "give an initial password to let this contact sign in" in refused.text
    session.refresh(pat)
    assert pat.can_sign_in is False
    new_password = "a brand new passphrase"
    client.post(f"/partner-users/{pat.id}", data=edit | {"access": "portal", "password": new_password})
    session.refresh(pat)
    assert service.authenticate(session, pat.email, new_password) is not None
    [changed, *_] = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "partner_user.changed").order_by(AuditEvent.id)
    ).all()
    assert changed.details["changes"] == {"contact_role": ["", "sales"], "can_sign_in": [True, False]}


def test_partner_admins_manage_their_own_colleagues_only(client, session):
    acme, other = make_partner(session, name="Acme"), make_partner(session, name="Other")
    admin = make_partner_user(session, acme, email="admin@acme.example", is_partner_admin=True)
    colleague = make_partner_user(session, acme, email="sam@acme.example")
    stranger = make_partner_user(session, other, email="x@other.example")
    session.commit()
    sign_in(client, admin.email)
    home = client.get("/portal").text
    token = csrf_from(home)
    assert "sam@acme.example" in home and "x@other.example" not in home

    added = client.post(
        "/portal/colleagues",
        data={
            "email": "mark@acme.example",
            "contact_role": "marketing",
            "access": "email",
            "csrf_token": token,
        },
        follow_redirects=True,
    )
    assert "mark@acme.example is a contact" in added.text
    assert _contact(session, "mark@acme.example").partner_id == acme.id

    made_admin = {"contact_role": "exec", "access": "portal", "is_partner_admin": "true", "csrf_token": token}
    assert client.post(f"/portal/colleagues/{colleague.id}", data=made_admin).status_code == 303
    session.refresh(colleague)
    assert (colleague.contact_role, colleague.is_partner_admin) == ("exec", True)

    assert client.post(f"/portal/colleagues/{stranger.id}", data=made_admin).status_code == 404
    session.refresh(stranger)
    assert (stranger.contact_role, stranger.is_partner_admin) == ("", False)

    own = client.post(
        f"/portal/colleagues/{admin.id}", data=made_admin | {"is_partner_admin": ""}, follow_redirects=True
    )
    assert "you cannot take away your own sign-in or admin rights" in own.text
    session.refresh(admin)
    assert admin.is_partner_admin is True

    plain = TestClient(client.app, follow_redirects=False)
    sign_in(plain, make_partner_user(session, acme, email="plain@acme.example").email)
    session.commit()
    plain_token = csrf_from(plain.get("/portal").text)
    refused = plain.post(f"/portal/colleagues/{colleague.id}", data=made_admin | {"csrf_token": plain_token})
    assert refused.status_code == 403


def test_admins_change_roles_but_never_demote_the_last_active_admin(client, session):
    admin = make_user(session, Role.ADMIN)
    seller = make_user(session, Role.SALES)
    retired = make_user(session, Role.ADMIN)
    retired.is_active = False  # an inactive admin does not keep the workspace administered
    session.commit()
    sign_in(client, admin.email)
    token = csrf_from(client.get("/users").text)
    promoted = client.post(f"/users/{seller.id}/role", data={"role": "partner_manager", "csrf_token": token})
    assert promoted.status_code == 303
    session.refresh(seller)
    assert seller.role == "partner_manager"

    refused = client.post(
        f"/users/{admin.id}/role", data={"role": "ops", "csrf_token": token}, follow_redirects=True
    )
    assert f"{admin.email} is the only active admin" in refused.text
    session.refresh(admin)
    assert admin.role == "admin"

    audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "user.role_changed")).all()
    assert [(a.details["old"], a.details["new"]) for a in audit] == [("sales", "partner_manager")]
    with pytest.raises(service.InvalidInput, match="unknown role"):
        service.change_role(session, service.user_actor(admin), seller.id, "owner")


def _demoting(browser: TestClient, token: str, target: int) -> Callable[[], int]:
    """The signed-in browser's demotion of `target` to viewer, to run at once with others; its status."""
    return lambda: (
        browser.post(f"/users/{target}/role", data={"role": "viewer", "csrf_token": token}).status_code
    )


@pytest.mark.all_backends
def test_two_admins_demoting_each_other_at_once_leave_one_admin(
    committed_engine: Engine, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    engine = committed_engine
    app = create_app(Settings(env="test", var_dir=tmp_path / "var", secret_key="r" * 40), engine)
    try:
        for round_ in range(3):
            with Session(engine) as session:
                ada = make_user(session, Role.ADMIN, email=f"ada{round_}@example.com")
                bob = make_user(session, Role.ADMIN, email=f"bob{round_}@example.com")
                session.execute(  # earlier rounds' admins step aside: these two are the only ones
                    User.__table__.update().where(User.id.not_in([ada.id, bob.id])).values(is_active=False)
                )
                session.commit()
                pairs = [(ada.email, bob.id), (bob.email, ada.id)]
            clients = []
            for email, target in pairs:
                browser = TestClient(app, follow_redirects=False)
                sign_in(browser, email)
                clients.append((browser, csrf_from(browser.get("/users").text), target))
            statuses = at_once(*(_demoting(*args) for args in clients))
            # The later request finds its admin already demoted (403), or is refused by the guard (303 with
            # the reason): never a 500, and never both demoted.
            assert sorted(statuses) in ([303, 303], [303, 403])
            with Session(engine) as session:
                admins = session.scalar(select(func.count()).where(User.role == "admin", User.is_active))
                assert admins == 1
    finally:
        engine.dispose()


def test_a_nurture_step_for_one_role_reaches_only_those_contacts_e_mail_only_ones_included(session, settings):
    manager = make_user(session, Role.PARTNER_MANAGER)
    partner = make_partner(
        session, name="Acme", owner_id=manager.id, stage="signed", stage_since=date(2030, 2, 1)
    )
    make_partner_user(session, partner, email="sales@acme.example", contact_role="sales")
    make_partner_user(
        session, partner, email="cs@acme.example", contact_role="cs", can_sign_in=False, password=""
    )
    make_partner_user(session, partner, email="any@acme.example")
    make_sequence(
        session,
        [
            step(0, "partner_email", "For the sales team", contact_role="sales"),
            step(0, "partner_email", "For customer success", contact_role="cs"),
            step(0, "partner_email", "For the executives", contact_role="exec"),
            step(0, "partner_email", "For everyone"),
        ],
    )
    move(session, partner, "onboarding", date(2030, 3, 2))
    run_nurture(session, settings, at(date(2030, 3, 2)))
    sent = sorted((d.body.subject, d.target) for d in deliveries(session))
    assert sent == [
        ("For customer success", "cs@acme.example"),
        ("For everyone", "any@acme.example"),
        ("For everyone", "cs@acme.example"),
        ("For everyone", "sales@acme.example"),
        ("For the sales team", "sales@acme.example"),
    ]


@pytest.mark.all_backends
def test_a_demotion_waits_for_one_in_flight_and_then_sees_it(
    committed_engine: Engine, tmp_path: Path
) -> None:
    """Interleaved by hand: while Ada's demotion of Bob is uncommitted, Bob's demotion of Ada must wait
    (row locks on PostgreSQL, the write lock on SQLite), then find Ada the only admin and be refused."""
    engine = committed_engine
    try:
        with Session(engine) as session:
            ada, bob = make_user(session, Role.ADMIN), make_user(session, Role.ADMIN)
            session.commit()
            ada_actor, bob_actor, ada_id, bob_id = (
                service.user_actor(ada),
                service.user_actor(bob),
                ada.id,
                bob.id,
            )
        outcome: list[str] = []

        def bob_demotes_ada() -> None:
            with Session(engine) as second:
                try:
                    service.change_role(second, bob_actor, ada_id, "viewer")
                    second.commit()
                    outcome.append("demoted")
                except service.InvalidInput as exc:
                    outcome.append(str(exc))

        with Session(engine) as first:
            service.change_role(first, ada_actor, bob_id, "viewer")
            later = threading.Thread(target=bob_demotes_ada)
            later.start()
            later.join(timeout=1.0)
            assert later.is_alive(), "the second demotion did not wait for the first"
            first.commit()
        later.join()
        assert len(outcome) == 1 and "is the only active admin" in outcome[0]
        with Session(engine) as session:
            assert session.scalar(select(func.count()).where(User.role == "admin", User.is_active)) == 1
    finally:
        engine.dispose()
