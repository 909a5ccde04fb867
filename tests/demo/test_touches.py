"""Partner touches point at real partners and deals, and fall where METRICS.md expects them in time."""

from __future__ import annotations

import bisect
from collections import defaultdict
from datetime import timedelta

from ecoops.attribution.models import TOUCH_CLASS, PartnerTouch, TouchKind
from ecoops.crm.models import Opportunity
from ecoops.partners.models import Partner

GRACE = timedelta(days=7)
SIGNED = {"signed", "onboarding", "active", "producing"}


def stage_on(workspace):
    """A function telling a partner's stage on a day, read back from the stored histories."""
    history = workspace.partner_histories()

    def stage(partner_id, day):
        position = bisect.bisect_right([change.changed_on for change in history[partner_id]], day)
        return history[partner_id][position - 1].to_stage if position else None

    return stage


def test_touches_reference_partners_and_the_deals_accounts(small_workspace):
    partners = {p.id for p in small_workspace.rows(Partner)}
    opportunities = {o.crm_id: o for o in small_workspace.rows(Opportunity)}
    touches = small_workspace.rows(PartnerTouch)

    assert touches
    for touch in touches:
        assert touch.partner_id in partners
        assert touch.account_crm_id == opportunities[touch.opportunity_crm_id].account_crm_id
        assert touch.evidence_type and touch.evidence_ref
        assert touch.touched_on <= small_workspace.as_of


def test_touches_are_dated_where_their_kind_belongs(full_workspace):
    opportunities = {o.crm_id: o for o in full_workspace.rows(Opportunity)}
    touches = full_workspace.rows(PartnerTouch)
    stage = stage_on(full_workspace)

    assert {t.kind for t in touches} == set(TouchKind) - {TouchKind.OVERLAP}
    for touch in touches:
        deal = opportunities[touch.opportunity_crm_id]
        end = deal.close_date if deal.is_closed else full_workspace.as_of
        if TOUCH_CLASS[touch.kind] == "sourcing" and touch.status == "confirmed":
            assert touch.touched_on <= deal.created_on + GRACE
            assert stage(touch.partner_id, deal.created_on) in SIGNED
        elif TOUCH_CLASS[touch.kind] == "sourcing":  # registered after the fact: must not count as sourcing
            assert deal.created_on + GRACE < touch.touched_on <= end
        elif touch.kind == TouchKind.MARKETPLACE:
            assert deal.is_won and touch.touched_on == deal.close_date
        elif TOUCH_CLASS[touch.kind] == "influence":
            assert deal.created_on <= touch.touched_on <= end
        else:
            assert deal.is_won and touch.touched_on > deal.close_date


def test_partner_sourced_deals_carry_their_evidence(full_workspace):
    opportunities = full_workspace.rows(Opportunity)
    partners = full_workspace.rows(Partner)
    touches = full_workspace.rows(PartnerTouch)
    sourcing = defaultdict(list)
    for touch in touches:
        if TOUCH_CLASS[touch.kind] == "sourcing" and touch.status == "confirmed":
            sourcing[touch.opportunity_crm_id].append(touch)
    crm_source = {t.opportunity_crm_id: t for t in touches if t.kind == TouchKind.CRM_SOURCE}
    partner_keys = {p.crm_id: p.id for p in partners} | {p.name: p.id for p in partners}

    partner_led = [o for o in opportunities if o.lead_source == "Partner"]
    assert partner_led and set(sourcing) == {o.crm_id for o in partner_led}
    for deal in opportunities:
        if deal.partner_source:
            touch = crm_source[deal.crm_id]
            assert partner_keys[deal.partner_source] == touch.partner_id
            assert touch.touched_on == deal.created_on
    referrals = [t for t in touches if t.kind in (TouchKind.REFERRAL, TouchKind.DEAL_REGISTRATION)]
    assert all(t.evidence_type == "referral" for t in referrals)
    assert len({t.evidence_ref for t in referrals}) == len(referrals)
