"""Review and hand-off: approval routes the lead, links or creates the opportunity, records the touch."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from ecoops.accounts.service import InvalidInput, partner_user_actor, user_actor
from ecoops.actors import Role
from ecoops.attribution.models import PartnerTouch
from ecoops.audit import AuditEvent
from ecoops.crm.models import Opportunity
from ecoops.permissions import Forbidden, NotFound
from ecoops.referrals import outbound, queries, review, routing
from ecoops.referrals.models import TerritoryRule, Via
from ecoops.referrals.submission import ReferralInput
from tests.factories import make_account, make_opportunity, make_partner_user, make_user

pytestmark = pytest.mark.all_backends


def actions(session, referral_id):
    statement = select(AuditEvent.action).where(
        AuditEvent.target_type == "referral", AuditEvent.target_id == str(referral_id)
    )
    return list(session.scalars(statement.order_by(AuditEvent.id)))


def test_approval_hands_to_the_account_owner_and_links_the_open_deal(
    session, settings, partners, submit_as, manager_actor
):
    owner = make_user(session, Role.SALES, name="Olga Owner")
    make_account(session, crm_id="001ACME", name="Acme", domain="acme.com", owner="Olga Owner")
    make_opportunity(session, crm_id="006ACME", account_crm_id="001ACME")
    referral = submit_as(partners[0], domain="acme.com", kind="eql")

    review.approve(session, manager_actor, referral.id, settings=settings, reason="good fit")
    assert (referral.status, referral.assigned_seller_id, referral.routed_by) == (
        "approved",
        owner.id,
        "account_owner",
    )
    assert (referral.account_crm_id, referral.opportunity_crm_id) == ("001ACME", "006ACME")
    assert referral.registration_expires_on is None  # an EQL holds nothing
    touch = session.scalar(select(PartnerTouch).where(PartnerTouch.evidence_ref == str(referral.id)))
    assert (touch.kind, touch.partner_id, touch.opportunity_crm_id, touch.account_crm_id) == (
        "referral",
        partners[0].id,
        "006ACME",
        "001ACME",
    )
    assert (touch.evidence_type, touch.touched_on) == ("referral", referral.submitted_at.date())
    assert [(h.from_status, h.to_status, h.reason) for h in referral.history] == [
        (None, "submitted", ""),
        ("submitted", "approved", "good fit"),
    ]
    assert actions(session, referral.id) == ["referral.submitted", "referral.approved"]


def test_without_an_account_a_territory_seller_gets_a_new_opportunity(
    session, settings, partners, submit_as, manager_actor
):
    seller = make_user(session, Role.SALES, name="Tess Territory")
    session.add(TerritoryRule(country="DE", seller_id=seller.id))
    referral = submit_as(partners[0], company="Neu AG", country="Germany", estimated_value="12,500")
    review.approve(session, manager_actor, referral.id, settings=settings)
    assert (referral.assigned_seller_id, referral.routed_by) == (seller.id, "territory")
    opportunity = session.scalar(select(Opportunity).where(Opportunity.crm_id == referral.opportunity_crm_id))
    assert opportunity.amount == Decimal("12500.00") and opportunity.owner == "Tess Territory"
    assert opportunity.partner_source == "Alpha Partners"
    touch = session.scalar(select(PartnerTouch).where(PartnerTouch.evidence_ref == str(referral.id)))
    assert touch.kind == "deal_registration" and touch.opportunity_crm_id == opportunity.crm_id


def test_round_robin_takes_turns_over_active_sellers(session, settings, partners, submit_as, manager_actor):
    first, second = make_user(session, Role.SALES), make_user(session, Role.SALES)
    make_user(session, Role.VIEWER)  # not a seller
    assigned = []
    for n in range(3):
        referral = submit_as(partners[0], company=f"Company {n}", kind="eql")
        review.approve(session, manager_actor, referral.id, settings=settings)
        assigned.append(referral.assigned_seller_id)
    assert assigned == [first.id, second.id, first.id]


def test_rejection_needs_a_reason_and_ends_the_review(session, settings, partners, submit_as, manager_actor):
    referral = submit_as(partners[0])
    with pytest.raises(InvalidInput, match="reason"):
        review.reject(session, manager_actor, referral.id, " ")
    review.reject(session, manager_actor, referral.id, "Already in our pipeline")
    assert referral.status == "rejected" and referral.history[-1].reason == "Already in our pipeline"
    with pytest.raises(InvalidInput, match="not waiting for review"):
        review.approve(session, manager_actor, referral.id, settings=settings)
    assert session.scalar(select(PartnerTouch).where(PartnerTouch.evidence_ref == str(referral.id))) is None


def test_only_reviewers_decide(session, settings, partners, submit_as):
    referral = submit_as(partners[0])
    seller = user_actor(make_user(session, Role.SALES))
    with pytest.raises(Forbidden):
        review.approve(session, seller, referral.id, settings=settings)
    own = partner_user_actor(make_partner_user(session, partners[0]))
    with pytest.raises(Forbidden):
        review.reject(session, own, referral.id, "no")


def test_outbound_referral_is_answered_by_its_partner_only(session, settings, partners):
    seller = user_actor(make_user(session, Role.SALES))
    data = ReferralInput(kind="eql", company="Needs Integration Inc", notes="wants an SI")
    referral = outbound.refer_out(
        session, seller, data, partner_id=partners[1].id, settings=settings, via=Via.INTERNAL
    )
    assert (referral.direction, referral.status) == ("outbound", "sent")
    assert referral.sla_due_at == referral.submitted_at + timedelta(hours=48)  # the partner owes an answer
    viewer = user_actor(make_user(session, Role.VIEWER))
    with pytest.raises(Forbidden):
        outbound.refer_out(
            session, viewer, data, partner_id=partners[1].id, settings=settings, via=Via.INTERNAL
        )
    stranger = partner_user_actor(make_partner_user(session, partners[0]))
    with pytest.raises(NotFound):
        outbound.respond(session, stranger, referral.id, accept=True, settings=settings)
    own = partner_user_actor(make_partner_user(session, partners[1]))
    outbound.respond(session, own, referral.id, accept=True, settings=settings, reason="we'll call them")
    assert referral.status == "accepted"
    exchange = queries.give_and_get(session, own, partners[1].id)
    assert (exchange.received, exchange.sent, exchange.sent_accepted) == (0, 1, 1)
    assert queries.give_and_get(session, own, partners[0].id).sent == 0  # another partner's: nothing shows
    assert actions(session, referral.id) == ["referral.sent", "referral.accepted"]


def test_sla_due_follows_the_configured_hours(session, settings, partners, submit_as):
    settings.referral_sla_hours = 4
    referral = submit_as(partners[0])
    assert (referral.sla_due_at - referral.submitted_at).total_seconds() == 4 * 3600
    assert referral.submitted_at.date() >= date(2025, 1, 1)


def test_territory_rules_are_set_by_reviewers_and_replace_the_country_seller(session, manager_actor):
    first, second = make_user(session, Role.SALES), make_user(session, Role.SALES)
    routing.set_territory(session, manager_actor, country="Germany", seller_id=first.id)
    rule = routing.set_territory(session, manager_actor, country="DE", seller_id=second.id)
    assert [(r.country, u.id) for r, u in routing.territories(session, manager_actor)] == [("DE", second.id)]
    with pytest.raises(InvalidInput, match="unknown country"):
        routing.set_territory(session, manager_actor, country="Narnia", seller_id=first.id)
    with pytest.raises(Forbidden):
        routing.set_territory(session, user_actor(first), country="FR", seller_id=first.id)
    routing.remove_territory(session, manager_actor, rule.id)
    assert routing.territories(session, manager_actor) == []


def test_the_touch_is_dated_on_the_workspace_day_of_submission(
    session, settings, partners, submit_as, manager_actor
):
    settings.timezone = "Pacific/Auckland"  # UTC+13 in March
    referral = submit_as(partners[0], kind="eql")
    referral.submitted_at = datetime(2025, 3, 1, 20, 0, tzinfo=UTC)
    session.flush()
    session.expire(referral)  # read back as the database gives it (naive on SQLite)
    review.approve(session, manager_actor, referral.id, settings=settings)
    touch = session.scalar(select(PartnerTouch).where(PartnerTouch.evidence_ref == str(referral.id)))
    assert touch.touched_on == date(2025, 3, 2)
