"""The no-login form behind a signed link: it resists replay, forged, expired or revoked links, floods,
oversized fields and HTML injection."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from ecoops.actors import SYSTEM, Role
from ecoops.audit import AuditEvent, utcnow
from ecoops.referrals import links
from ecoops.referrals.models import Referral
from tests.factories import csrf_from, make_partner_user, make_user, sign_in


@pytest.fixture
def link(session, settings, partners):
    return links.create_link(session, SYSTEM, partner_id=partners[0].id, days=30, settings=settings)


@pytest.fixture
def url(link, settings):
    return f"/r/{links.link_token(link, settings)}"


def open_form(client, url):
    page = client.get(url)
    assert page.status_code == 200, page.text
    nonce = re.search(r'name="nonce" value="([^"]+)"', page.text).group(1)
    return {"csrf_token": csrf_from(page.text), "nonce": nonce}


def send(client, url, tokens, **fields):
    return client.post(url, data=tokens | {"kind": "eql", "company": "Link Lead"} | fields)


def referrals(session):
    return list(session.scalars(select(Referral).where(Referral.submitted_via == "link")))


def test_a_submission_through_the_link_lands_for_its_partner(client, session, url, partners, link):
    response = send(client, url, open_form(client, url), domain="linklead.com")
    assert response.status_code == 200 and "Thank you" in response.text
    [referral] = referrals(session)
    assert (referral.partner_id, referral.link_id, referral.status) == (partners[0].id, link.id, "submitted")
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "referral.submitted"))
    assert event.actor_label == f"signed link #{link.id}"


def test_a_replayed_form_is_refused(client, session, url):
    tokens = open_form(client, url)
    assert send(client, url, tokens).status_code == 200
    replay = send(client, url, tokens)
    assert replay.status_code == 400 and "already sent" in replay.text
    assert send(client, url, tokens | {"nonce": "made-up"}).status_code == 400
    assert len(referrals(session)) == 1


def test_a_nonce_of_another_link_does_not_work(client, session, settings, url, partners):
    other = links.create_link(session, SYSTEM, partner_id=partners[1].id, days=5, settings=settings)
    other_url = f"/r/{links.link_token(other, settings)}"
    assert send(client, url, open_form(client, other_url)).status_code == 400


@pytest.mark.parametrize("tamper", ["bad", "forged", "other_partner"])
def test_bad_signatures_are_not_found(client, session, settings, link, url, tamper):
    if tamper == "bad":
        target = url[:-3] + "xyz"
    elif tamper == "forged":
        target = "/r/" + links.URLSafeSerializer("not-our-secret" * 3, salt=links._SALT).dumps(
            [link.id, link.partner_id]
        )
    else:  # the right link id, re-signed for another partner, still needs our secret: signed with it here
        target = "/r/" + links.URLSafeSerializer(settings.secret_key, salt=links._SALT).dumps([link.id, 999])
    assert client.get(target).status_code == 404
    assert client.post(target, data={"nonce": "x", "kind": "eql", "company": "x"}).status_code in (403, 404)


def test_expired_and_revoked_links_stop_working(client, session, settings, link, url, partners):
    tokens = open_form(client, url)
    link.expires_at = utcnow() - timedelta(minutes=1)
    session.flush()
    assert client.get(url).status_code == 404
    assert send(client, url, tokens).status_code == 404
    fresh = links.create_link(session, SYSTEM, partner_id=partners[0].id, days=1, settings=settings)
    fresh_url = f"/r/{links.link_token(fresh, settings)}"
    tokens = open_form(client, fresh_url)
    links.revoke_link(session, SYSTEM, fresh.id)
    session.flush()
    assert send(client, fresh_url, tokens).status_code == 404
    assert referrals(session) == []


def test_each_link_takes_a_limited_number_of_submissions_an_hour(client, session, url, monkeypatch):
    monkeypatch.setattr(links, "SUBMISSIONS_PER_HOUR", 3)
    for n in range(3):
        assert send(client, url, open_form(client, url), company=f"Lead {n}").status_code == 200
    flooded = send(client, url, open_form(client, url))
    assert flooded.status_code == 429 and "try again in an hour" in flooded.text
    monkeypatch.setattr(links, "FORMS_PER_HOUR", 4)
    assert client.get(url).status_code == 429


def test_oversized_fields_are_refused_with_a_clear_message(client, session, url):
    response = send(client, url, open_form(client, url), notes="n" * 5001)
    assert response.status_code == 400 and "notes is too long (at most 5000 characters)" in response.text
    huge = send(client, url, open_form(client, url), company="c" * 50_000)
    assert huge.status_code == 422
    assert referrals(session) == []


def test_html_and_script_are_shown_as_text_everywhere(client, session, url, partners):
    payload = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    response = send(client, url, open_form(client, url), company=payload, notes=payload, contact_name=payload)
    assert "<script>alert(1)" not in response.text and "&lt;script&gt;" in response.text
    [referral] = referrals(session)
    manager = make_user(session, Role.PARTNER_MANAGER)
    session.flush()
    client.cookies.clear()
    sign_in(client, manager.email)
    for page in (client.get(f"/referrals/{referral.id}").text, client.get("/referrals").text):
        assert (
            "<script>alert(1)" not in page and "<img src=x" not in page and "&lt;script&gt;alert(1)" in page
        )


def test_managers_create_list_and_revoke_links(client, session, partners):
    manager = make_user(session, Role.PARTNER_MANAGER)
    sign_in(client, manager.email)
    page = client.get("/referral-links").text
    assert "No links yet" in page
    client.post(
        "/referral-links", data={"csrf_token": csrf_from(page), "partner_id": partners[0].id, "days": 7}
    )
    page = client.get("/referral-links").text
    url = re.search(r'<code class="link-url">http://testserver(/r/[^<]+)</code>', page).group(1)
    assert client.get(url).status_code == 200
    refused = client.post(
        "/referral-links", data={"csrf_token": csrf_from(page), "partner_id": partners[0].id, "days": 0}
    )
    assert refused.status_code == 303 and "a link lasts 1 to 366 days" in client.get("/referral-links").text
    link_id = session.scalar(select(links.ReferralLink.id).order_by(links.ReferralLink.id.desc()))
    client.post(f"/referral-links/{link_id}/revoke", data={"csrf_token": csrf_from(page)})
    assert client.get(url).status_code == 404


def test_partner_admins_find_their_own_working_links_in_the_portal(
    client, session, settings, link, url, partners
):
    other = links.create_link(session, SYSTEM, partner_id=partners[1].id, days=5, settings=settings)
    gone = links.create_link(session, SYSTEM, partner_id=partners[0].id, days=5, settings=settings)
    links.revoke_link(session, SYSTEM, gone.id)
    admin = make_partner_user(session, partners[0], is_partner_admin=True)
    session.flush()
    sign_in(client, admin.email)
    shown = re.findall(
        r'<code class="link-url">http://testserver(/r/[^<]+)</code>', client.get("/portal").text
    )
    assert shown == [url]
    assert links.link_token(other, settings) not in client.get("/portal").text
