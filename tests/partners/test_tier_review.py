"""Tier evaluation against hand-worked figures (tests/partners/tier_scenario.py), and the review of its
proposals: approve (a dated tier change), dismiss, stale, re-runs."""

from datetime import date

import pytest
from sqlalchemy import select

from ecoops.accounts.service import InvalidInput, user_actor
from ecoops.actors import SYSTEM, Role
from ecoops.audit import AuditEvent
from ecoops.events.models import Event
from ecoops.partners import tier_review
from ecoops.partners.editing import PartnerEdit, update_partner
from ecoops.partners.models import Membership, PartnerChange, TierProposal
from ecoops.partners.tier_figures import TierFigures
from ecoops.permissions import Forbidden
from tests.factories import make_user
from tests.partners.tier_scenario import AS_OF, seed

pytestmark = pytest.mark.all_backends
TODAY = date(2026, 1, 5)


def _moves(proposals):
    return sorted((p.partner.name, p.from_tier.name, p.to_tier.name, p.direction) for p in proposals)


def _criteria(proposal, tier):
    (check,) = [f for f in proposal.figures if f["tier"] == tier]
    return {c["metric"]: (c["value"], c["threshold"], c["met"]) for c in check["criteria"]}


def test_figures_per_partner_as_worked_by_hand(session, settings, backend):
    s = seed(session)
    figures = TierFigures(session, SYSTEM, settings, AS_OF)
    got = {
        name: (
            figures.value(partner, "sourced_revenue", 365),
            figures.value(partner, "won_deals", 365),
            figures.value(partner, "referrals_sent", 365),
            figures.value(partner, "certified_people", 365),
        )
        for name, partner in s.partners.items()
    }
    assert got == {
        "ada": (10000.0, 2.0, 0.0, 0.0),
        "bo": (9999.99, 2.0, 0.0, 0.0),
        "cy": (60000.0, 2.0, 2.0, 2.0),  # the rejected referral does not count
        "dee": (9000.0, 1.0, 0.0, 0.0),  # the deal won on 31 Dec 2024 is one day out of the window
        "eli": (80000.0, 1.0, 0.0, 0.0),
    }
    # A window one day longer reaches Dee's old deal.
    assert figures.value(s.partners["dee"], "sourced_revenue", 366) == 10000.0


def test_evaluation_proposes_the_hand_worked_moves(session, settings, backend):
    seed(session)
    found = tier_review.evaluate(session, SYSTEM, settings, AS_OF)
    assert found.evaluated == 4  # Ada, Bo, Cy, Dee; Eli is churned
    assert _moves(found.proposed) == [
        ("Ada", "Registered", "Silver", "upgrade"),  # exactly at the revenue threshold
        ("Cy", "Gold", "Silver", "downgrade"),
        ("Dee", "Silver", "Registered", "downgrade"),
    ]  # Bo, one cent under, stays
    by_name = {p.partner.name: p for p in found.proposed}
    assert _criteria(by_name["Ada"], "Silver") == {
        "sourced_revenue": (10000.0, 10000.0, True),
        "won_deals": (2.0, 2.0, True),
    }
    assert _criteria(by_name["Cy"], "Gold") == {
        "sourced_revenue": (60000.0, 50000.0, True),
        "referrals_sent": (2.0, 3.0, False),
        "certified_people": (2.0, 2.0, True),
    }
    assert _criteria(by_name["Dee"], "Silver") == {
        "sourced_revenue": (9000.0, 10000.0, False),
        "won_deals": (1.0, 2.0, False),
    }
    events = session.scalars(select(Event).where(Event.kind == "tier.change_proposed")).all()
    assert sorted((e.payload["partner_name"], e.payload["to_tier"]) for e in events) == [
        ("Ada", "Silver"),
        ("Cy", "Silver"),
        ("Dee", "Registered"),
    ]


def test_a_rerun_does_not_duplicate_open_proposals(session, settings, backend):
    seed(session)
    first = tier_review.evaluate(session, SYSTEM, settings, AS_OF)
    again = tier_review.evaluate(session, SYSTEM, settings, AS_OF)
    assert again.proposed == []
    open_ones = session.scalars(select(TierProposal).where(TierProposal.status == "open")).all()
    assert sorted(p.id for p in open_ones) == sorted(p.id for p in first.proposed)
    assert session.query(Event).filter(Event.kind == "tier.change_proposed").count() == 3


def test_approving_changes_the_tier_dated_in_the_history(session, settings, backend):
    s = seed(session)
    manager = user_actor(make_user(session, Role.PARTNER_MANAGER, email="mia@example.com"))
    found = tier_review.evaluate(session, SYSTEM, settings, AS_OF)
    ada = next(p for p in found.proposed if p.partner.name == "Ada")
    approved = tier_review.approve(session, manager, ada.id, today=TODAY, note="well earned")
    assert (approved.status, approved.decided_by, approved.note) == (
        "approved",
        "mia@example.com",
        "well earned",
    )
    membership = session.scalar(select(Membership).where(Membership.partner_id == s.partners["ada"].id))
    assert membership.tier_id == s.silver.id
    line = session.scalar(select(PartnerChange).where(PartnerChange.partner_id == s.partners["ada"].id))
    assert (line.field, line.old_value, line.new_value, line.changed_on, line.recorded_by) == (
        "tier",
        "Resell · Registered",
        "Resell · Silver",
        TODAY,
        "mia@example.com",
    )
    actions = list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions[-2:] == ["partner.updated", "tier_proposal.approved"]
    with pytest.raises(InvalidInput, match=r"already approved by mia@example\.com"):
        tier_review.approve(session, manager, ada.id, today=TODAY)
    # Ada now holds Silver, which she meets: a new evaluation proposes nothing for her.
    assert "Ada" not in {
        p.partner.name for p in tier_review.evaluate(session, SYSTEM, settings, AS_OF).proposed
    }


def test_dismissing_keeps_the_tier_and_is_not_proposed_again(session, settings, backend):
    s = seed(session)
    found = tier_review.evaluate(session, SYSTEM, settings, AS_OF)
    cy = next(p for p in found.proposed if p.partner.name == "Cy")
    tier_review.dismiss(session, SYSTEM, cy.id, note="strategic account")
    membership = session.scalar(select(Membership).where(Membership.partner_id == s.partners["cy"].id))
    assert membership.tier_id == s.gold.id
    assert tier_review.evaluate(session, SYSTEM, settings, AS_OF).proposed == []
    with pytest.raises(InvalidInput, match="already dismissed"):
        tier_review.approve(session, SYSTEM, cy.id, today=TODAY)


def test_a_stale_proposal_is_not_applied(session, settings, backend):
    s = seed(session)
    found = tier_review.evaluate(session, SYSTEM, settings, AS_OF)
    ada = next(p for p in found.proposed if p.partner.name == "Ada")
    # Someone moves Ada to Gold by hand after the evaluation.
    update_partner(
        session, SYSTEM, s.partners["ada"].id, PartnerEdit(tier_ids=[s.gold.id]), on=TODAY, today=TODAY
    )
    result = tier_review.approve(session, SYSTEM, ada.id, today=TODAY)
    assert result.status == "stale"
    assert "now in Gold, no longer in Registered" in result.note
    membership = session.scalar(select(Membership).where(Membership.partner_id == s.partners["ada"].id))
    assert membership.tier_id == s.gold.id  # left as the person set it
    # The next evaluation starts from Gold: Ada meets only Silver, so it proposes that downgrade.
    again = tier_review.evaluate(session, SYSTEM, settings, AS_OF)
    assert ("Ada", "Gold", "Silver", "downgrade") in _moves(again.proposed)


def test_a_changed_figure_replaces_the_open_proposal(session, settings, backend):
    s = seed(session)
    tier_review.evaluate(session, SYSTEM, settings, AS_OF)
    # Dee's window, one day longer, reaches the old deal: Dee meets Silver again.
    silver_revenue = next(c for c in s.silver.criteria if c.metric == "sourced_revenue")
    won_deals = next(c for c in s.silver.criteria if c.metric == "won_deals")
    silver_revenue.window_days = won_deals.window_days = 366
    session.flush()
    tier_review.evaluate(session, SYSTEM, settings, AS_OF)
    dee = session.scalars(select(TierProposal).where(TierProposal.partner_id == s.partners["dee"].id)).all()
    assert [(p.status, p.note) for p in dee] == [("stale", f"the evaluation of {AS_OF} keeps Dee in Silver")]


def test_only_partner_managers_and_above_evaluate_and_decide(session, settings, backend):
    seed(session)
    sales = user_actor(make_user(session, Role.SALES))
    with pytest.raises(Forbidden):
        tier_review.evaluate(session, sales, settings, AS_OF)
    proposal = tier_review.evaluate(session, SYSTEM, settings, AS_OF).proposed[0]
    with pytest.raises(Forbidden):
        tier_review.approve(session, sales, proposal.id, today=TODAY)


def test_the_daily_job_evaluates_once_a_day(session, settings, backend):
    from datetime import UTC, datetime

    seed(session)
    morning = datetime(2025, 12, 31, 8, tzinfo=UTC)
    assert tier_review.evaluate_daily(session, settings, morning) == 3
    assert tier_review.evaluate_daily(session, settings, morning.replace(hour=17)) == 0
    assert session.query(TierProposal).count() == 3
