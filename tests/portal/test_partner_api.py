"""Partner users' API tokens: made on the tokens page, scoped to their own partner on /api/v1/portal,
refused (403) everywhere else, and dead once revoked or once the person loses portal access."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from ecoops.accounts import service as accounts
from ecoops.accounts.models import ApiToken
from ecoops.actors import Role
from ecoops.config import Settings
from ecoops.referrals import outbound
from ecoops.referrals.models import Referral, Via
from ecoops.referrals.submission import ReferralInput, submit
from ecoops.web.app import create_app
from tests.at_once import at_once
from tests.factories import csrf_from, make_partner, make_partner_user, make_user, sign_in


def _partner_token(session: Session, partner_user) -> dict[str, str]:
    _token, secret = accounts.create_api_token(session, accounts.partner_user_actor(partner_user), name="crm")
    session.flush()
    return {"authorization": f"Bearer {secret}"}


def test_a_partner_user_makes_a_token_on_the_tokens_page_and_it_names_its_partner(client, session):
    partner = make_partner(session, name="Mapleware")
    person = make_partner_user(session, partner, name="Riley Brooks")
    session.flush()
    sign_in(client, person.email)
    page = client.get("/tokens")
    assert page.status_code == 200 and "/api/v1/portal" in page.text and 'href="/tokens"' in page.text
    made = client.post(
        "/tokens", data={"name": "our CRM", "lifetime": "30", "csrf_token": csrf_from(page.text)}
    )
    assert made.status_code == 201
    start = made.text.index('id="new-token-secret">') + len('id="new-token-secret">')
    secret = made.text[start : made.text.index("<", start)]
    stored = session.scalars(select(ApiToken).where(ApiToken.partner_user_id == person.id)).one()
    assert stored.user_id is None and stored.token_hash != secret

    client.cookies.clear()
    me = client.get("/api/v1/me", headers={"authorization": f"Bearer {secret}"}).json()
    assert (me["kind"], me["email"], me["partner_id"], me["role"]) == (
        "partner_user",
        person.email,
        partner.id,
        None,
    )
    assert me["permissions"] == []


def test_the_partner_api_shows_and_takes_only_the_callers_own_partners_referrals(client, session, settings):
    own, other = make_partner(session, name="Own"), make_partner(session, name="Other")
    person = make_partner_user(session, own)
    seller = accounts.user_actor(make_user(session, Role.SALES))
    mine = submit(
        session,
        accounts.partner_user_actor(person),
        ReferralInput(kind="eql", company="Own Lead"),
        settings=settings,
        via=Via.PORTAL,
    )
    theirs = submit(
        session,
        accounts.partner_user_actor(make_partner_user(session, other)),
        ReferralInput(kind="eql", company="Other Lead"),
        settings=settings,
        via=Via.PORTAL,
    )
    sent = outbound.refer_out(
        session,
        seller,
        ReferralInput(kind="eql", company="Our Customer"),
        partner_id=own.id,
        settings=settings,
        via=Via.INTERNAL,
    )
    headers = _partner_token(session, person)

    listed = client.get("/api/v1/portal/referrals", headers=headers).json()
    assert sorted(item["company"] for item in listed["items"]) == ["Our Customer", "Own Lead"]
    assert listed["total"] == 2 and "conflicts" not in listed["items"][0]
    inbound = client.get("/api/v1/portal/referrals", params={"direction": "inbound"}, headers=headers).json()
    assert [item["id"] for item in inbound["items"]] == [mine.id]
    assert client.get(f"/api/v1/portal/referrals/{theirs.id}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/portal/referrals/{mine.id}", headers=headers).json()["company"] == "Own Lead"

    # A partner_id in the body is not a field of the partner API: the referral is the caller's partner's.
    body = {"kind": "deal_registration", "company": "Registered Co", "partner_id": other.id}
    created = client.post("/api/v1/portal/referrals", json=body, headers=headers)
    assert created.status_code == 201, created.text
    stored = session.get(Referral, created.json()["id"])
    assert (stored.partner_id, stored.submitted_via, stored.status) == (own.id, "api", "submitted")
    missing = client.post("/api/v1/portal/referrals", json={"kind": "eql", "company": " "}, headers=headers)
    assert missing.status_code == 400 and "company" in missing.text

    answered = client.post(
        f"/api/v1/portal/referrals/{sent.id}/answer",
        json={"accept": True, "reason": "on it"},
        headers=headers,
    )
    assert answered.status_code == 200 and answered.json()["status"] == "accepted"
    again = client.post(f"/api/v1/portal/referrals/{sent.id}/answer", json={"accept": False}, headers=headers)
    session.expire_all()  # the app committed in its own session
    assert again.status_code == 400 and session.get(Referral, sent.id).status == "accepted"
    assert (
        client.post(
            f"/api/v1/portal/referrals/{theirs.id}/answer", json={"accept": True}, headers=headers
        ).status_code
        == 404
    )


def test_a_partner_token_is_refused_by_the_internal_api_and_an_internal_token_by_the_partner_api(
    client, session
):
    person = make_partner_user(session, make_partner(session))
    headers = _partner_token(session, person)
    for path in ("/api/v1/referrals", "/api/v1/partners", "/api/v1/accounts", "/api/v1/metrics/overview"):
        assert client.get(path, headers=headers).status_code == 403, path
    admin = make_user(session, Role.ADMIN)
    _token, secret = accounts.create_api_token(session, accounts.user_actor(admin), name="ops")
    session.flush()
    refused = client.get("/api/v1/portal/referrals", headers={"authorization": f"Bearer {secret}"})
    assert refused.status_code == 403


def test_revoked_tokens_and_people_without_portal_access_get_401(client, session):
    partner = make_partner(session)
    person, colleague, third = (make_partner_user(session, partner) for _ in range(3))
    headers = _partner_token(session, person)
    assert client.get("/api/v1/portal/referrals", headers=headers).status_code == 200
    person.can_sign_in = False  # made an e-mail-only contact
    session.flush()
    assert client.get("/api/v1/portal/referrals", headers=headers).status_code == 401
    person.can_sign_in, person.is_active = True, False
    session.flush()
    assert client.get("/api/v1/portal/referrals", headers=headers).status_code == 401

    token, _secret = accounts.create_api_token(session, accounts.partner_user_actor(colleague), name="theirs")
    with pytest.raises(accounts.NotFound):  # a colleague's token is not yours to revoke
        accounts.revoke_api_token(session, accounts.partner_user_actor(third), token.id)
    admin = accounts.user_actor(make_user(session, Role.ADMIN))
    assert accounts.revoke_api_token(session, admin, token.id).revoked_at is not None
    person.is_active = True
    own, own_secret = accounts.create_api_token(session, accounts.partner_user_actor(person), name="mine")
    accounts.revoke_api_token(session, accounts.partner_user_actor(person), own.id)
    session.flush()
    assert client.get("/api/v1/me", headers={"authorization": f"Bearer {own_secret}"}).status_code == 401


@pytest.mark.all_backends
def test_two_submissions_at_once_with_one_token_store_both(committed_engine: Engine, tmp_path: Path) -> None:
    settings = Settings(env="test", var_dir=tmp_path / "var", secret_key="p" * 40)
    with Session(committed_engine) as session:
        headers = _partner_token(session, make_partner_user(session, make_partner(session)))
        session.commit()
    app = create_app(settings, committed_engine)

    def create(n: int) -> int:
        body = {"kind": "eql", "company": f"Lead {n}"}
        return TestClient(app).post("/api/v1/portal/referrals", json=body, headers=headers).status_code

    assert at_once(*(lambda n=n: create(n) for n in range(4))) == [201] * 4
    with Session(committed_engine) as session:
        assert session.scalar(select(func.count()).select_from(Referral)) == 4
        assert session.scalars(select(ApiToken.last_used_at)).one() is not None
