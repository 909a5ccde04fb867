"""Partner suggestions for a lead without a partner: those that have the company as a customer or open
with it first (from their account lists), then by geography, type, tier, capacity and
past conversion, each with its reasons."""

from __future__ import annotations

from ecoops.accounts.service import user_actor
from ecoops.actors import SYSTEM, Role
from ecoops.mapping import runs, uploads
from ecoops.partners import service as partners_service
from ecoops.referrals import outbound
from ecoops.referrals.models import Via
from ecoops.referrals.submission import ReferralInput
from ecoops.referrals.suggestion import suggest_partners
from tests.factories import bearer, make_account, make_partner, make_user, sign_in


def ranked(session, **query):
    return [(s.partner.name, s.reasons) for s in suggest_partners(session, **query)]


def test_geography_type_and_tier_rank_and_explain(session):
    program = partners_service.create_program(session, SYSTEM, name="Resell", tiers=["Silver", "Gold"])
    make_partner(session, name="Local Tech", country="DE", partner_type="technology")
    make_partner(session, name="Local SI", country="DE", partner_type="systems_integrator")
    make_partner(
        session, name="Far Gold Reseller", country="US", partner_type="reseller", tiers=[program.tiers[1]]
    )
    make_partner(session, name="Churned DE", country="DE", partner_type="reseller", stage="churned")
    result = ranked(session, country="Germany")
    assert [name for name, _ in result] == ["Local SI", "Local Tech", "Far Gold Reseller"]
    assert result[0][1] == ["based in DE", "a systems integrator: delivers to customers"]
    assert result[2][1] == ["a reseller: delivers to customers", "tier Gold"]
    assert ranked(session, country="DE", partner_type="technology")[0][1] == [
        "based in DE",
        "a technology partner, as asked",
    ]


def test_past_conversion_lifts_and_unanswered_referrals_weigh(session, settings):
    manager = user_actor(make_user(session, Role.PARTNER_MANAGER))
    make_user(session, Role.SALES)
    busy = make_partner(session, name="Busy", partner_type="agency")
    proven = make_partner(session, name="Proven", partner_type="agency")
    for n in range(2):
        data = ReferralInput(kind="eql", company=f"Sent {n}")
        outbound.refer_out(session, manager, data, partner_id=busy.id, settings=settings, via=Via.INTERNAL)
    referral = outbound.refer_out(
        session,
        manager,
        ReferralInput(kind="eql", company="Won"),
        partner_id=proven.id,
        settings=settings,
        via=Via.INTERNAL,
    )
    referral.status = "accepted"
    result = dict(ranked(session))
    assert result["Proven"][-1] == "converted 1 of 1 referrals"
    assert "2 referral(s) still unanswered" in result["Busy"]
    assert [name for name, _ in ranked(session)][:2] == ["Proven", "Busy"]


def _lists(session, tmp_path, partner, population):
    """The partner's account list: Acme in `population`, and a company of no interest."""
    path = tmp_path / f"{partner.id}.csv"
    path.write_text(
        "Account ID,Account Name,Website,Population\n"
        f"T1,Acme GmbH,https://acme.com,{population}\nT2,Unrelated,unrelated.example,Customers\n",
        encoding="utf-8",
    )
    uploads.upload_partner_list(session, SYSTEM, partner.id, path, "list.csv")
    runs.run_mapping(session, SYSTEM, partner.id)


def test_partners_that_have_the_account_as_customer_or_open_rank_first_with_the_reason(
    session, tmp_path, client
):
    make_account(session, crm_id="A1", name="Acme", domain="acme.com", country="DE")
    # The best fit by points: local, a systems integrator, a producing partner.
    make_partner(
        session, name="Best By Points", country="DE", partner_type="systems_integrator", stage="producing"
    )
    customer = make_partner(session, name="Zed Customer", country="US", partner_type="technology")
    open_with_it = make_partner(session, name="Open Deal", country="US", partner_type="technology")
    prospect = make_partner(session, name="Prospect Only", country="US", partner_type="technology")
    churned = make_partner(session, name="Churned", partner_type="technology", stage="churned")
    _lists(session, tmp_path, customer, "Customers")
    _lists(session, tmp_path, open_with_it, "Open Opportunities")
    _lists(session, tmp_path, prospect, "Prospects")
    _lists(session, tmp_path, churned, "Customers")  # not a working partner: not suggested at all

    found = suggest_partners(session, company="Acme", domain="www.acme.com", country="Germany")
    assert [(s.partner.name, s.overlap_label) for s in found] == [
        ("Zed Customer", "has it as a customer"),
        ("Open Deal", "open with it"),
        ("Best By Points", ""),
        ("Prospect Only", ""),
    ]
    assert found[0].reasons[0] == "already has Acme as a customer (their Customers list)"
    assert found[1].reasons[0] == "has an open opportunity with Acme (their Open Opportunities list)"
    assert found[3].reasons == []  # a prospect in their list: no reason, no lift
    # The name alone finds the account too; an unknown company changes nothing.
    assert suggest_partners(session, company="ACME GmbH")[0].partner.name == "Zed Customer"
    assert suggest_partners(session, company="Nobody", country="DE")[0].partner.name == "Best By Points"

    sign_in(client, make_user(session, Role.SALES).email)
    session.flush()
    page = client.get(
        "/outbound-referrals/new", params={"company": "Acme", "domain": "acme.com", "country": ""}
    )
    assert page.status_code == 200
    first = page.text.split('<ol class="suggestions">')[1].split("</li>")[0]
    assert "Zed Customer" in first and "has it as a customer" in first
    assert "already has Acme as a customer (their Customers list)" in first
    api = client.get(
        "/api/v1/referrals/suggestions",
        params={"domain": "acme.com"},
        headers=bearer(session, make_user(session, Role.SALES)),
    )
    assert [s["partner_name"] for s in api.json()][:2] == ["Zed Customer", "Open Deal"]
