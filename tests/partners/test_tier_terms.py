"""A tier's criteria and benefits: set on the programs page and by API, validated field by field, and
certified people kept on the partner; the tier review page and API; the partner page's progress."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from ecoops.actors import SYSTEM, Role
from ecoops.partners import programs
from ecoops.partners.editing import PartnerEdit, update_partner
from ecoops.partners.models import PartnerChange, TierProposal
from ecoops.partners.programs import FieldError
from ecoops.partners.tier_terms import CriterionInput, TierTerms, set_tier_terms
from tests.factories import bearer, csrf_from, make_partner, make_partner_user, make_user, sign_in
from tests.partners.tier_scenario import AS_OF, seed


@pytest.fixture
def tier(session):
    return programs.create_program(session, SYSTEM, name="Resell", tiers=["Silver"]).tiers[0]


@pytest.mark.parametrize(
    ("terms", "field"),
    [
        (TierTerms(criteria=[CriterionInput("revenue", 1)]), "criteria[0].metric"),
        (TierTerms(criteria=[CriterionInput("won_deals", -1)]), "criteria[0].threshold"),
        (TierTerms(criteria=[CriterionInput("won_deals", "ten")]), "criteria[0].threshold"),
        (TierTerms(criteria=[CriterionInput("won_deals", "1.005")]), "criteria[0].threshold"),
        (TierTerms(criteria=[CriterionInput("won_deals", "1e15")]), "criteria[0].threshold"),
        (TierTerms(criteria=[CriterionInput("won_deals", 1, 0)]), "criteria[0].window_days"),
        (TierTerms(criteria=[CriterionInput("won_deals", 1, 1096)]), "criteria[0].window_days"),
        (
            TierTerms(criteria=[CriterionInput("won_deals", 1), CriterionInput("won_deals", 2)]),
            "criteria[1].metric",
        ),
        (TierTerms(registration_days=0), "registration_days"),
        (TierTerms(registration_days=3651), "registration_days"),
        (TierTerms(commission_class="x" * 61), "commission_class"),
        (TierTerms(portal_content="x" * 5001), "portal_content"),
    ],
)
def test_invalid_terms_are_refused_naming_the_field(session, tier, terms, field):
    set_tier_terms(session, SYSTEM, tier, TierTerms(commission_class="C1"))
    with pytest.raises(FieldError) as caught:
        set_tier_terms(session, SYSTEM, tier, terms)
    assert caught.value.field == field
    assert tier.commission_class == "C1" and tier.criteria == []  # nothing half-written


def test_the_bounds_allowed_are_accepted(session, tier):
    terms = TierTerms(
        registration_days=3650,
        commission_class="x" * 60,
        mdf_eligible=True,
        portal_content="x" * 5000,
        criteria=[
            CriterionInput("won_deals", 0, 1),
            CriterionInput("sourced_revenue", "999999999999999.99", 1095),
        ],
    )
    set_tier_terms(session, SYSTEM, tier, terms)
    assert [(c.metric, c.threshold, c.window_days) for c in tier.criteria] == [
        ("won_deals", Decimal(0), 1),
        ("sourced_revenue", Decimal("999999999999999.99"), 1095),
    ]
    # Saving again replaces the list: a kept metric gets its new threshold, a dropped one goes.
    set_tier_terms(session, SYSTEM, tier, TierTerms(criteria=[CriterionInput("won_deals", 3)]))
    assert [(c.metric, c.threshold) for c in tier.criteria] == [("won_deals", Decimal(3))]
    assert (tier.registration_days, tier.mdf_eligible) == (None, False)


def test_terms_through_the_api(client, session, tier):
    headers = bearer(session, make_user(session, Role.PARTNER_MANAGER))
    path = f"/api/v1/programs/{tier.program_id}/tiers/{tier.id}"
    body = {
        "registration_days": 60,
        "commission_class": "C2",
        "mdf_eligible": True,
        "criteria": [
            {"metric": "sourced_revenue", "threshold": "25000.50"},
            {"metric": "won_deals", "threshold": 3},
        ],
    }
    saved = client.patch(path, json=body, headers=headers)
    assert saved.status_code == 200, saved.text
    out = saved.json()
    assert (out["registration_days"], out["commission_class"], out["mdf_eligible"]) == (60, "C2", True)
    assert [(c["metric"], Decimal(c["threshold"]), c["window_days"]) for c in out["criteria"]] == [
        ("sourced_revenue", Decimal("25000.50"), 365),
        ("won_deals", Decimal(3), 365),
    ]
    # Only what is given changes: a rename keeps the terms; null restores the default registration window.
    renamed = client.patch(path, json={"name": "Silver+", "registration_days": None}, headers=headers).json()
    assert (renamed["name"], renamed["registration_days"], len(renamed["criteria"])) == ("Silver+", None, 2)
    unknown = client.patch(path, json={"criteria": [{"metric": "revenue", "threshold": 1}]}, headers=headers)
    assert unknown.status_code == 422
    assert unknown.json()["detail"][0]["loc"][:3] == ["body", "criteria", 0]


def test_terms_from_the_programs_page(client, session, tier):
    sign_in(client, make_user(session, Role.PARTNER_MANAGER).email)
    page = client.get("/programs")
    assert "Criteria and benefits of Silver" in page.text
    form = {
        "csrf_token": csrf_from(page.text),
        "metric": ["sourced_revenue", "won_deals", "referrals_sent", "certified_people"],
        "threshold": ["10000", "", "2", ""],  # blank: not a criterion
        "window_days": ["180", "365", "90", "365"],
        "registration_days": "",
        "commission_class": " C3 ",
        "mdf_eligible": "true",
        "portal_content": "https://partners.example/silver",
    }
    assert client.post(f"/programs/{tier.program_id}/tiers/{tier.id}/terms", data=form).status_code == 303
    session.refresh(tier)
    assert [(c.metric, c.threshold, c.window_days) for c in tier.criteria] == [
        ("sourced_revenue", Decimal(10000), 180),
        ("referrals_sent", Decimal(2), 90),
    ]
    assert (tier.commission_class, tier.mdf_eligible, tier.registration_days) == ("C3", True, None)
    shown = client.get("/programs").text
    assert "Partner-sourced won revenue ≥ 10,000 (last 180 days)" in shown
    bad = client.post(
        f"/programs/{tier.program_id}/tiers/{tier.id}/terms",
        data=form | {"csrf_token": csrf_from(shown), "window_days": ["x", "365", "90", "365"]},
    )
    assert bad.status_code == 303
    assert "window_days of sourced_revenue: a whole number of days" in client.get("/programs").text


def test_certified_people_are_kept_on_the_partner_with_history(client, session):
    partner = make_partner(session)
    update_partner(session, SYSTEM, partner.id, PartnerEdit(certified_people=3), on=AS_OF, today=AS_OF)
    line = session.scalar(select(PartnerChange).where(PartnerChange.partner_id == partner.id))
    assert (line.field, line.old_value, line.new_value) == ("certified people", "0", "3")
    with pytest.raises(FieldError) as caught:
        update_partner(session, SYSTEM, partner.id, PartnerEdit(certified_people=-1), on=AS_OF, today=AS_OF)
    assert caught.value.field == "certified_people"
    headers = bearer(session, make_user(session, Role.PARTNER_MANAGER))
    patched = client.patch(f"/api/v1/partners/{partner.id}", json={"certified_people": 5}, headers=headers)
    assert patched.json()["certified_people"] == 5


def test_tier_review_through_the_api_and_a_stale_approval(client, session, settings):
    s = seed(session)
    headers = bearer(session, make_user(session, Role.PARTNER_MANAGER))
    evaluated = client.post("/api/v1/tier-evaluations", json={"as_of": str(AS_OF)}, headers=headers).json()
    assert (evaluated["evaluated"], len(evaluated["proposed"])) == (4, 3)
    listed = client.get("/api/v1/tier-proposals", headers=headers).json()
    assert listed["total"] == 3
    dee = next(p for p in listed["items"] if p["partner_id"] == s.partners["dee"].id)
    assert dee["direction"] == "downgrade" and dee["figures"][0]["criteria"][0]["value"] == 9000.0
    update_partner(
        session, SYSTEM, s.partners["dee"].id, PartnerEdit(tier_ids=[s.gold.id]), on=AS_OF, today=AS_OF
    )
    stale = client.post(f"/api/v1/tier-proposals/{dee['id']}/approve", json={}, headers=headers)
    assert stale.status_code == 409
    assert "Dee is now in Gold" in stale.json()["detail"]
    assert session.get_one(TierProposal, dee["id"]).status == "stale"  # kept, not rolled back
    stale_list = client.get("/api/v1/tier-proposals", params={"status": "stale"}, headers=headers).json()
    assert [p["id"] for p in stale_list["items"]] == [dee["id"]]
    assert client.get("/api/v1/tier-proposals", params={"status": "nope"}, headers=headers).status_code == 422
    assert client.post("/api/v1/tier-proposals/999999/dismiss", json={}, headers=headers).status_code == 404


def test_tier_review_page_and_the_partner_page_progress(client, session):
    s = seed(session)
    sign_in(client, make_user(session, Role.PARTNER_MANAGER).email)
    empty = client.get("/tier-review").text
    assert "No proposal waits for review" in empty
    assert client.post("/tier-review/evaluate", data={"csrf_token": csrf_from(empty)}).status_code == 303
    # Evaluated as of today (2026 or later): the scenario's 2025 deals are out of the window, so the
    # figures are zero and Cy and Dee would be downgraded; what matters here is what the page shows.
    page = client.get("/tier-review").text
    assert "Cy</a>: downgrade in Resell" in page
    assert "Referrals sent" in page and "not met" in page
    partner_page = client.get(f"/partners/{s.partners['cy'].id}").text
    assert "Tier criteria" in partner_page and "Holds: Gold" in partner_page
    assert "Certified people: 2" in partner_page


def test_partner_users_and_sales_see_no_tier_review(client, session):
    partner = make_partner(session)
    user = make_partner_user(session, partner)
    sign_in(client, user.email)
    assert client.get("/tier-review").status_code == 403
    client.cookies.clear()
    sign_in(client, make_user(session, Role.SALES).email)
    assert client.get("/tier-review").status_code == 403
