"""Partner suggestions for a lead without a partner: ranked by geography, type, tier, capacity and
past conversion, each with its reasons."""

from __future__ import annotations

from ecoops.accounts.service import user_actor
from ecoops.actors import SYSTEM, Role
from ecoops.partners import service as partners_service
from ecoops.referrals import outbound
from ecoops.referrals.models import Via
from ecoops.referrals.submission import ReferralInput
from ecoops.referrals.suggestion import suggest_partners
from tests.factories import make_partner, make_user


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
