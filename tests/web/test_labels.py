"""Pages name things: readable labels for internal values, people by name, accounts and deals linked."""

from __future__ import annotations

import re
from datetime import date

from ecoops.accounts.service import partner_user_actor, user_actor
from ecoops.actors import Role
from ecoops.attribution.models import PartnerTouch, TouchKind
from ecoops.referrals import review
from ecoops.referrals.models import Kind, Via
from ecoops.referrals.submission import ReferralInput, submit
from ecoops.web.labels import label
from tests.factories import (
    make_account,
    make_opportunity,
    make_partner,
    make_partner_user,
    make_user,
    sign_in,
)


def _text(html: str) -> str:
    """What a reader sees of the page's content: its main part without tags, attributes and scripts."""
    html = html.split("<main>", 1)[1]
    html = re.sub(r"<(script|select).*?</\1>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_each_internal_value_has_one_readable_label() -> None:
    assert label(TouchKind.CO_SELL) == label("co_sell") == "co-sell"
    assert label(Kind.EQL) == "referral (lead)" and label(Kind.DEAL_REGISTRATION) == "deal registration"
    assert label("customers") == "Customers" and label("open_opportunities") == "Open Opportunities"
    assert label("account_crm_id") == "account" and label("crm_id") == "CRM id"
    assert label("never_seen_before") == "never seen before"  # never raw, even without an entry
    assert (
        label("Partner__c", keep_unknown=True) == "Partner__c"
    )  # a name from outside, as its owners write it


def test_an_opportunity_names_its_account_and_who_noted_each_touch(client, session) -> None:
    avery = make_user(session, Role.PARTNER_MANAGER, name="Avery Stone", email="avery@example.com")
    partner = make_partner(session, name="Label Partner")
    account = make_account(session, crm_id="001LABELS", name="Globex Labels")
    make_opportunity(session, crm_id="006LABELS", account_crm_id="001LABELS", created_on=date(2025, 3, 1))
    session.add(
        PartnerTouch(
            partner_id=partner.id,
            opportunity_crm_id="006LABELS",
            account_crm_id="001LABELS",
            kind="co_sell",
            touched_on=date(2025, 3, 2),
            evidence_type="user",
            evidence_ref=str(avery.id),
            recorded_by=avery.email,
        )
    )
    session.flush()
    sign_in(client, avery.email)

    page = client.get("/dashboards/opportunities/006LABELS?as_of=2025-04-01").text
    assert f'<a href="/accounts/{account.id}">Globex Labels</a>' in page
    assert f'<a href="/partners/{partner.id}">Label Partner</a>' in page
    seen = _text(page)
    assert "co-sell" in seen and "noted by Avery Stone" in seen and "recorded by Avery Stone" in seen
    for raw in ("co_sell", "account_crm_id", f"user {avery.id}", "avery@example.com"):
        assert raw not in seen, raw


def test_a_referral_names_its_reviewer_alike_everywhere_and_links_its_hand_off(
    client, session, settings
) -> None:
    avery = make_user(session, Role.PARTNER_MANAGER, name="Avery Stone", email="avery@example.com")
    make_user(session, Role.SALES, name="Sam Seller")
    partner = make_partner(session, name="Handoff Partner")
    account = make_account(session, crm_id="001HANDOFF", name="Handoff Corp", domain="handoff.com")
    riley = make_partner_user(session, partner, name="Riley Brooks", email="riley@partner.example")
    data = ReferralInput(kind="eql", company="Handoff Corp", domain="handoff.com")
    referral = submit(session, partner_user_actor(riley), data, settings=settings, via=Via.PORTAL)
    review.approve(session, user_actor(avery), referral.id, settings=settings)
    session.flush()
    sign_in(client, avery.email)

    page = client.get(f"/referrals/{referral.id}").text
    seen = _text(page)
    assert "referral (lead)" in seen and "eql" not in seen
    assert "by Riley Brooks" in seen and "riley@partner.example" not in seen  # submitted by
    assert seen.count("Avery Stone") == 2 and "avery@example.com" not in seen  # history and "Reviewed by"
    assert f'<a href="/accounts/{account.id}">Handoff Corp</a>' in page
    opportunity = referral.opportunity_crm_id
    assert re.search(rf'<a href="/dashboards/opportunities/{opportunity}">[^<]+</a>', page)

    inbox = _text(client.get("/referrals").text)
    assert "referral (lead)" in inbox and "eql" not in inbox


def test_the_partner_page_names_the_accounts_of_its_deals(client, session) -> None:
    partner = make_partner(session, name="Deals Partner")
    account = make_account(session, crm_id="001PARTNERDEAL", name="Partnered Account")
    make_opportunity(
        session, crm_id="006PARTNERDEAL", account_crm_id="001PARTNERDEAL", partner_source=partner.name
    )
    sign_in(client, make_user(session, Role.SALES).email)
    page = client.get(f"/partners/{partner.id}").text
    assert f'<a href="/accounts/{account.id}">Partnered Account</a>' in page
    assert "001PARTNERDEAL" not in _text(page)
