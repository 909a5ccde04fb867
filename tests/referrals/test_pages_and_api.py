"""Internal referral pages and the API: inbox with SLA flags, review with conflicts, outbound form."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ecoops.actors import Role
from ecoops.attribution.models import PartnerTouch
from tests.factories import bearer, csrf_from, make_account, make_user, sign_in


def test_inbox_flags_breached_slas_and_conflicts(client, session, partners, submit_as, manager):
    make_account(session, crm_id="001C", name="Acme", domain="acme.com", account_type="Customer")
    late = submit_as(partners[0], company="Acme", domain="acme.com")
    late.sla_due_at = late.submitted_at - timedelta(hours=1)
    submit_as(partners[1], company="Fresh Co", domain="fresh.com")
    session.flush()
    sign_in(client, manager.email)
    page = client.get("/referrals").text
    assert "SLA breached" in page and "1 conflict" in page and "Fresh Co" in page
    only_late = client.get("/referrals", params={"overdue": "true"}).text
    assert "Acme" in only_late and "Fresh Co" not in only_late
    assert "No referral matches" in client.get("/referrals", params={"status": "accepted"}).text


def test_manager_reviews_on_the_referral_page(client, session, partners, submit_as, manager):
    make_user(session, Role.SALES, name="Sam Seller")
    referral = submit_as(partners[0], company="Acme", domain="acme.com")
    rival = submit_as(partners[1], company="ACME Inc", domain="acme.com")
    session.flush()
    sign_in(client, manager.email)
    page = client.get(f"/referrals/{rival.id}").text
    assert "first come" in page and "Alpha Partners registered it first" in page
    token = csrf_from(page)
    response = client.post(f"/referrals/{referral.id}/approve", data={"csrf_token": token, "reason": ""})
    assert response.status_code == 303
    page = client.get(f"/referrals/{referral.id}").text
    assert "Approved and handed to sales (round robin)" in page and "Sam Seller" in page
    client.post(f"/referrals/{rival.id}/reject", data={"csrf_token": token, "reason": ""})
    assert "Not rejected: give the partner a reason" in client.get(f"/referrals/{rival.id}").text
    client.post(f"/referrals/{rival.id}/approve", data={"csrf_token": token})
    assert "first come, first served" in client.get(f"/referrals/{rival.id}").text


def test_a_seller_refers_an_account_out_and_sees_suggestions(client, session, partners):
    seller = make_user(session, Role.SALES)
    sign_in(client, seller.email)
    form = client.get("/outbound-referrals/new", params={"country": "Germany"}).text
    assert "Alpha Partners" in form and "based in DE" in form
    data = {"csrf_token": csrf_from(form), "partner_id": partners[0].id, "kind": "eql", "company": ""}
    refused = client.post("/outbound-referrals", data=data)
    assert refused.status_code == 400 and "company is required" in refused.text
    response = client.post("/outbound-referrals", data=data | {"company": "Needs Help <b>Ltd</b>"})
    assert response.status_code == 303
    page = client.get(response.headers["location"]).text
    assert "sent" in page and "Needs Help &lt;b&gt;Ltd&lt;/b&gt;" in page


def test_api_submits_approves_and_records_the_touch(client, session, partners, manager):
    make_user(session, Role.SALES)
    headers = bearer(session, manager)
    body = {"kind": "deal_registration", "company": "Api Co", "domain": "apico.com", "estimated_value": "900"}
    created = client.post(f"/api/v1/partners/{partners[0].id}/referrals", json=body, headers=headers)
    assert created.status_code == 201 and created.json()["status"] == "submitted"
    referral_id = created.json()["id"]
    bad = client.post(
        f"/api/v1/partners/{partners[0].id}/referrals", json=body | {"kind": "x"}, headers=headers
    )
    assert bad.status_code == 400 and "type must be one of" in bad.text
    approved = client.post(f"/api/v1/referrals/{referral_id}/approve", json={"reason": ""}, headers=headers)
    assert approved.status_code == 200
    assert [h["to_status"] for h in approved.json()["history"]] == ["submitted", "approved"]
    touch = session.scalar(select(PartnerTouch).where(PartnerTouch.evidence_ref == str(referral_id)))
    assert touch.kind == "deal_registration" and touch.partner_id == partners[0].id
    assert client.get("/api/v1/referrals/999999", headers=headers).status_code == 404
    listed = client.get("/api/v1/referrals", params={"status": "approved"}, headers=headers).json()
    assert [r["id"] for r in listed["items"]] == [referral_id]
    ranked = client.get("/api/v1/referrals/suggestions", params={"country": "FR"}, headers=headers).json()
    assert ranked[0]["partner_name"] == "Beta Partners" and "based in FR" in ranked[0]["reasons"]


def test_the_export_neutralises_spreadsheet_formulas(client, session, partners, submit_as, manager):
    submit_as(partners[0], company='=HYPERLINK("http://evil")', notes="x")
    submit_as(partners[1], company="Plain Co")
    session.flush()
    sign_in(client, manager.email)
    response = client.get("/referrals/export.csv")
    assert response.headers["content-type"].startswith("text/csv")
    lines = response.text.splitlines()
    assert lines[0].startswith("id,direction,kind,partner_id,company")
    assert "'=HYPERLINK" in response.text and ",Plain Co," in response.text and len(lines) == 3
