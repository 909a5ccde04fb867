"""The demo partner program: every type and stage, and life-cycle histories that obey the rules."""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.accounts.models import User
from ecoops.actors import SYSTEM, Role
from ecoops.partners import tier_review
from ecoops.partners.models import (
    Membership,
    Partner,
    PartnerDomain,
    PartnerType,
    Program,
    Stage,
    Tier,
)

# METRICS.md: churn is reachable only from a stage after signing.
CHURNABLE = {"signed", "onboarding", "active", "producing"}


def test_partners_span_every_type_and_stage_across_programs(small_workspace):
    partners = small_workspace.rows(Partner)
    programs = {p.id: p.name for p in small_workspace.rows(Program)}
    tiers = defaultdict(list)
    for tier in sorted(small_workspace.rows(Tier), key=lambda t: t.rank):
        tiers[programs[tier.program_id]].append(tier.name)

    assert 35 <= len(partners) <= 45
    assert {p.partner_type for p in partners} == set(PartnerType)
    assert {p.stage for p in partners} == set(Stage)
    assert tiers == {
        "Technology Alliance": ["Registered", "Silver", "Gold"],
        "Reseller": ["Authorized", "Premier"],
    }
    assert set(programs.values()) == {"Technology Alliance", "Reseller", "Referral"}
    assert len({p.crm_id for p in partners}) == len(partners)
    with_domain = {d.partner_id for d in small_workspace.rows(PartnerDomain)}
    assert with_domain == {p.id for p in partners}


def test_every_history_obeys_the_life_cycle_rules(small_workspace):
    partners = {p.id: p for p in small_workspace.rows(Partner)}
    history = small_workspace.partner_histories()

    assert set(history) == set(partners)
    for partner_id, changes in history.items():
        partner = partners[partner_id]
        assert changes[0].from_stage is None
        for before, after in itertools.pairwise(changes):
            assert after.from_stage == before.to_stage != after.to_stage
            assert after.to_stage != "churned" or before.to_stage in CHURNABLE
        assert all(c.changed_on <= small_workspace.as_of for c in changes)
        assert (partner.stage, partner.stage_since) == (changes[-1].to_stage, changes[-1].changed_on)
    resigned = [
        changes
        for changes in history.values()
        if any(a.to_stage == "churned" and b.to_stage == "signed" for a, b in itertools.pairwise(changes))
    ]
    assert len(resigned) == 1


def test_members_joined_their_program_when_they_signed(small_workspace):
    history = small_workspace.partner_histories()
    signed_on = {
        partner_id: next((c.changed_on for c in changes if c.to_stage == "signed"), None)
        for partner_id, changes in history.items()
    }
    tiers = {t.id: t.program_id for t in small_workspace.rows(Tier)}
    memberships = small_workspace.rows(Membership)

    assert {m.partner_id for m in memberships} == {p for p, day in signed_on.items() if day is not None}
    for membership in memberships:
        assert membership.joined_on == signed_on[membership.partner_id]
        assert membership.tier_id is None or tiers[membership.tier_id] == membership.program_id


def test_partner_managers_own_the_partners(small_workspace):
    with small_workspace.engine.connect() as connection:
        managers = set(connection.scalars(select(User.id).where(User.role == Role.PARTNER_MANAGER)))
    owners = {p.owner_id for p in small_workspace.rows(Partner)}

    assert owners <= managers and len(owners) > 1


def test_the_first_tier_evaluation_proposes_moves_both_ways(full_workspace, settings):
    """Tiers are placed by stage, criteria measure sales: the demo's review page has work to show."""
    with Session(full_workspace.engine) as session:
        tiers = session.scalars(
            select(Tier).join(Program).where(Program.name == "Technology Alliance").order_by(Tier.rank)
        ).all()
        assert [(t.name, [c.metric for c in t.criteria], t.mdf_eligible) for t in tiers] == [
            ("Registered", [], False),
            ("Silver", ["won_deals", "sourced_revenue"], False),
            ("Gold", ["won_deals", "sourced_revenue"], True),
        ]
        found = tier_review.evaluate(session, SYSTEM, settings, full_workspace.as_of)
        directions = Counter(p.direction for p in found.proposed)
        assert directions["upgrade"] >= 1 and directions["downgrade"] >= 1
        session.rollback()  # the workspace is shared by the package's tests
