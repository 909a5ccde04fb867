"""The one-time answer link a partner contact gets by e-mail: it answers once, until the request's
thirtieth day (410 after, or once answered anywhere), and a forged or changed token is a 404."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.actors import SYSTEM
from ecoops.attribution.models import PartnerTouch
from ecoops.config import Settings
from ecoops.referrals import cosell, links, outbound
from ecoops.referrals.models import Referral, ReferralLink
from ecoops.referrals.queries import as_utc
from tests.factories import csrf_from
from tests.referrals.cosell_scenario import CoSell, co_sell_scenario


@pytest.fixture
def scenario(session: Session, tmp_path: Path) -> CoSell:
    return co_sell_scenario(session, tmp_path)


@pytest.fixture
def request_(session: Session, settings: Settings, scenario: CoSell) -> Referral:
    seller, partner_id = scenario.seller_actor, scenario.partner.id
    data = cosell.prefill(session, seller, partner_id=partner_id, account_crm_id="A2")
    referral = cosell.ask_for_help(
        session, seller, data, partner_id=partner_id, account_crm_id="A2", settings=settings
    )
    session.flush()
    return referral


def answer_link(session: Session, referral: Referral) -> ReferralLink:
    return session.scalars(select(ReferralLink).where(ReferralLink.referral_id == referral.id)).one()


@pytest.fixture
def url(session: Session, settings: Settings, request_: Referral) -> str:
    return f"/r/{links.link_token(answer_link(session, request_), settings)}"


def co_sell_touches(session: Session) -> int:
    return len(session.scalars(select(PartnerTouch).where(PartnerTouch.kind == "co_sell")).all())


def answer(client: TestClient, url: str, accept: str = "true") -> tuple[int, str]:
    page = client.get(url)
    if page.status_code != 200:
        return page.status_code, page.text
    response = client.post(f"{url}/answer", data={"csrf_token": csrf_from(page.text), "accept": accept})
    return response.status_code, response.text


def test_the_contact_answers_once_from_the_link(client, session, url, request_):
    page = client.get(url)
    assert page.status_code == 200
    assert "Globex" in page.text and "Your account owner: Bob." in page.text and "Accept" in page.text
    status, text = answer(client, url)
    assert status == 200 and "accepted" in text
    session.refresh(request_)
    assert request_.status == "accepted" and co_sell_touches(session) == 1
    assert request_.history[-1].changed_by == f"answer link #{answer_link(session, request_).id}"
    assert client.get(url).status_code == 410
    token = csrf_from(page.text)
    assert client.post(f"{url}/answer", data={"csrf_token": token, "accept": "false"}).status_code == 410
    session.refresh(request_)
    assert request_.status == "accepted" and co_sell_touches(session) == 1


def test_a_declined_request_records_no_touch(client, session, url, request_):
    assert answer(client, url, accept="false")[0] == 200
    session.refresh(request_)
    assert request_.status == "declined" and co_sell_touches(session) == 0


def test_the_link_works_until_the_thirtieth_day(client, session, url, request_, monkeypatch):
    created = as_utc(answer_link(session, request_).created_at)
    monkeypatch.setattr(links, "utcnow", lambda: created + timedelta(days=30, seconds=-1))
    assert client.get(url).status_code == 200
    monkeypatch.setattr(links, "utcnow", lambda: created + timedelta(days=30))
    assert answer(client, url)[0] == 410
    session.refresh(request_)
    assert request_.status == "sent" and co_sell_touches(session) == 0  # still answerable in the portal


def test_answered_in_the_portal_the_link_is_gone(client, session, settings, url, request_, scenario):
    outbound.respond(session, scenario.contact_actor, request_.id, accept=True, settings=settings)
    session.flush()
    assert client.get(url).status_code == 410


def test_forged_changed_or_misused_tokens_are_not_found(client, session, settings, url, scenario):
    token = url.removeprefix("/r/")
    forged = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    assert client.get(f"/r/{forged}").status_code == 404
    assert client.post(f"/r/{forged}/answer", data={"accept": "true"}).status_code in (403, 404)
    other_secret = settings.model_copy(update={"secret_key": "x" * 40})
    assert client.get(f"/r/{links.link_token(answer_link_of(session), other_secret)}").status_code == 404
    submission = links.create_link(
        session, SYSTEM, partner_id=scenario.partner.id, days=30, settings=settings
    )
    session.flush()
    submission_url = f"/r/{links.link_token(submission, settings)}"
    assert answer(client, submission_url)[0] == 404  # a submission link answers nothing
    page = client.get(url)
    data = {"csrf_token": csrf_from(page.text), "kind": "eql", "company": "Sneaky", "nonce": "x"}
    assert client.post(url, data=data).status_code == 404  # and an answer link submits nothing
    assert links.list_links(session, SYSTEM) == [submission]  # nor is it listed with them
    assert links.partner_links(session, scenario.contact_actor) == [submission]


def answer_link_of(session: Session) -> ReferralLink:
    return session.scalars(select(ReferralLink).where(ReferralLink.referral_id.is_not(None))).one()
