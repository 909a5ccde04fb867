"""Conflict checks at submission, worked by hand: customers, open deals, other partners, first come."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ecoops.accounts.service import InvalidInput, partner_user_actor
from ecoops.actors import SYSTEM
from ecoops.partners import programs
from ecoops.partners.editing import PartnerEdit, update_partner
from ecoops.partners.tier_terms import TierTerms, set_tier_terms
from ecoops.referrals import review
from ecoops.referrals.companies import company_keys
from ecoops.referrals.models import Via
from ecoops.referrals.submission import ReferralInput, clean, submit
from tests.factories import make_account, make_opportunity, make_partner, make_partner_user

pytestmark = pytest.mark.all_backends


def codes(referral):
    return [c["code"] for c in referral.conflicts]


def test_a_new_company_has_no_conflicts(partners, submit_as):
    referral = submit_as(partners[0], company="Brand New Ltd", domain="brandnew.com")
    assert referral.conflicts == [] and referral.status == "submitted"
    assert [h.to_status for h in referral.history] == ["submitted"]


def test_company_keys_use_the_account_mapping_normalisation():
    keys = company_keys("ACME GmbH", "https://www.shop.acme.co.uk/path", "Germany")
    assert (keys.domain_key, keys.country) == ("acme.co.uk", "DE")
    assert keys.name_key == company_keys("Acme", "", "").name_key


def test_existing_customer_by_domain_and_its_open_opportunity(session, partners, submit_as):
    make_account(session, crm_id="001ACME", name="Acme Group", domain="acme.com", account_type="Customer")
    make_opportunity(session, crm_id="006OPEN", account_crm_id="001ACME", name="Upsell", owner="Sam Seller")
    make_opportunity(session, crm_id="006LOST", account_crm_id="001ACME", is_closed=True)
    referral = submit_as(partners[0], company="Totally different name", domain="www.acme.com")
    assert codes(referral) == ["existing_customer", "open_opportunity"]
    assert referral.conflicts[1]["opportunity_crm_id"] == "006OPEN"


def test_customer_by_won_deal_and_name_in_the_same_country_only(session, partners, submit_as):
    make_account(session, crm_id="001WON", name="Globex Inc", domain="", country="United States")
    make_opportunity(session, account_crm_id="001WON", is_closed=True, is_won=True)
    assert codes(submit_as(partners[0], company="Globex", country="US")) == ["existing_customer"]
    assert codes(submit_as(partners[1], company="Globex", country="France")) == []


def test_another_partners_registration_is_flagged_first_come_then_held(
    session, settings, partners, submit_as, manager_actor
):
    alpha, beta = partners
    first = submit_as(alpha, company="Initech", domain="initech.com")
    second = submit_as(beta, company="Initech Corp.", domain="initech.com")
    assert codes(first) == [] and codes(second) == ["first_come"]
    assert "Alpha Partners registered it first" in second.conflicts[0]["message"]

    review.approve(session, manager_actor, first.id, settings=settings)
    assert first.registration_expires_on == settings.today() + timedelta(days=90)
    third = submit_as(make_partner(session, name="Gamma Partners"), company="Initech")
    assert codes(third) == ["registered_elsewhere", "first_come"]  # alpha holds it; beta's is still pending
    with pytest.raises(InvalidInput, match="first come, first served"):
        review.approve(session, manager_actor, second.id, settings=settings)


def test_a_registration_lasts_as_long_as_the_partners_tiers_give(
    session, settings, partners, submit_as, manager_actor
):
    alpha, _ = partners
    resell = programs.create_program(session, SYSTEM, name="Resell", tiers=["Silver"])
    tech = programs.create_program(session, SYSTEM, name="Tech", tiers=["Gold"])
    set_tier_terms(session, SYSTEM, resell.tiers[0], TierTerms(registration_days=30))
    set_tier_terms(session, SYSTEM, tech.tiers[0], TierTerms(registration_days=120))
    today = settings.today()
    update_partner(
        session, SYSTEM, alpha.id, PartnerEdit(tier_ids=[resell.tiers[0].id]), on=today, today=today
    )
    first = submit_as(alpha, company="Vandelay", domain="vandelay.com")
    review.approve(session, manager_actor, first.id, settings=settings)
    assert first.registration_expires_on == today + timedelta(days=30)
    # In two programs, the longer window holds.
    update_partner(
        session,
        SYSTEM,
        alpha.id,
        PartnerEdit(tier_ids=[resell.tiers[0].id, tech.tiers[0].id]),
        on=today,
        today=today,
    )
    second = submit_as(alpha, company="Kramerica", domain="kramerica.com")
    review.approve(session, manager_actor, second.id, settings=settings)
    assert second.registration_expires_on == today + timedelta(days=120)


def test_an_expired_registration_no_longer_holds_the_account(
    session, settings, partners, submit_as, manager_actor
):
    alpha, beta = partners
    first = submit_as(alpha, company="Hooli", domain="hooli.com")
    review.approve(session, manager_actor, first.id, settings=settings)
    first.registration_expires_on = date(2020, 1, 1)
    second = submit_as(beta, company="Hooli", domain="hooli.com")
    assert codes(second) == []
    review.approve(session, manager_actor, second.id, settings=settings)
    assert second.status == "approved"


def test_the_same_partner_twice_is_a_duplicate_and_an_eql_is_not_a_claim(session, partners, submit_as):
    alpha, beta = partners
    submit_as(alpha, company="Umbrella", kind="eql")
    assert codes(submit_as(alpha, company="Umbrella")) == ["duplicate"]
    assert codes(submit_as(beta, company="Umbrella")) == ["first_come"]  # alpha's registration, not its EQL


def test_partner_users_submit_for_their_own_partner_only(session, settings, partners):
    actor = partner_user_actor(make_partner_user(session, partners[0]))
    data = ReferralInput(kind="eql", company="Soylent")
    referral = submit(session, actor, data, settings=settings, via=Via.PORTAL, partner_id=partners[1].id)
    assert referral.partner_id == partners[0].id and referral.submitted_by == actor.label


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"company": "  "}, "company is required"),
        ({"company": "x" * 201}, "company is too long"),
        ({"notes": "n" * 5001}, "notes is too long"),
        ({"kind": "lead"}, "type must be one of"),
        ({"contact_email": "not-an-address"}, "not an e-mail address"),
        ({"estimated_value": "lots"}, "must be a number"),
        ({"estimated_value": "-5"}, "between 0 and"),
        ({"estimated_value": "NaN"}, "between 0 and"),
        ({"country": "Atlantis"}, "unknown country"),
        ({"domain": "localhost"}, "not a usable company domain"),
    ],
)
def test_bad_input_gets_a_clear_error(fields, message):
    with pytest.raises(InvalidInput, match=message):
        clean(ReferralInput(**({"kind": "eql", "company": "Acme"} | fields)))
