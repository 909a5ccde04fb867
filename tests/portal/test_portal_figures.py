"""The portal home's figures: a partner user's own pipeline, credited revenue, referral conversion, tier
progress and what waits on it, hand-worked, and never another partner's."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from ecoops.accounts.service import partner_user_actor
from ecoops.actors import SYSTEM
from ecoops.attribution.models import PartnerTouch
from ecoops.config import Settings
from ecoops.partners import programs
from ecoops.partners.models import Partner
from ecoops.partners.tier_terms import CriterionInput, TierTerms, set_tier_terms
from ecoops.portal.figures import portal_figures
from ecoops.referrals.models import Direction, Kind, Referral, Status, Via
from tests.commissions.world import won_deal
from tests.factories import make_opportunity, make_partner, make_partner_user, sign_in


def open_deal(session: Session, partner: Partner, amount: str, created: date, kind: str = "referral") -> str:
    """An open opportunity with a confirmed touch of `partner` (a referral sources it, co-sell influences)."""
    opportunity = make_opportunity(
        session, amount=Decimal(amount), created_on=created, close_date=created + timedelta(days=90)
    )
    touched = created if kind == "referral" else created + timedelta(days=1)
    session.add(
        PartnerTouch(
            partner_id=partner.id,
            opportunity_crm_id=opportunity.crm_id,
            kind=kind,
            touched_on=touched,
            status="confirmed",
        )
    )
    session.flush()
    return opportunity.crm_id


def referral(
    session: Session, partner: Partner, *, opportunity: str = "", outbound: bool = False
) -> Referral:
    found = Referral(
        direction=(Direction.OUTBOUND if outbound else Direction.INBOUND).value,
        kind=Kind.EQL.value,
        partner_id=partner.id,
        company=f"Company of {partner.name}" + (" (ours)" if outbound else ""),
        status=(Status.SENT if outbound else Status.APPROVED).value,
        submitted_via=Via.PORTAL.value,
        opportunity_crm_id=opportunity,
    )
    session.add(found)
    session.flush()
    return found


def test_portal_home_shows_the_partners_own_figures(
    client: TestClient, session: Session, settings: Settings
) -> None:
    """Hand-worked, over the trailing year to today:
    - open pipeline sourced: deal D, 5,000.00 (1); influenced: deal E, 2,500.00 (1);
    - credited revenue (linear, the only partner on deal A): 12,000.00 on 1 won deal;
    - referrals: 2 sent to us, one became deal D: 50 %, 1 of 2, 0 won (the outbound one counts too: 3,
      so 1 of 3 = 33 %);
    - Gold needs 50,000.00 sourced revenue (has 12,000.00) and 3 certified people (has 1);
    - waiting: our referral to answer.
    The other partner's 40,000.00 deal, 9,000.00 pipeline and referrals appear nowhere."""
    today = settings.today()
    program = programs.create_program(session, SYSTEM, name="Resell Home", tiers=["Silver", "Gold"])
    silver, gold = program.tiers
    set_tier_terms(
        session,
        SYSTEM,
        gold,
        TierTerms(criteria=[CriterionInput("sourced_revenue", 50000), CriterionInput("certified_people", 3)]),
    )
    own = make_partner(session, name="Own Co", tiers=[silver])
    own.certified_people = 1
    other = make_partner(session, name="Other Co", tiers=[silver])
    won_deal(session, own, "12000", today - timedelta(days=30))
    won_deal(session, other, "40000", today - timedelta(days=20))
    sourced = open_deal(session, own, "5000", today - timedelta(days=10))
    open_deal(session, own, "2500", today - timedelta(days=12), kind="co_sell")
    open_deal(session, other, "9000", today - timedelta(days=10))
    referral(session, own, opportunity=sourced)
    referral(session, own)
    asked = referral(session, own, outbound=True)
    for _ in range(3):
        referral(session, other)
    sign_in(client, make_partner_user(session, own).email)
    page = client.get("/portal").text
    assert '<dd id="figure-pipeline-sourced">5,000.00 (1 opportunities)</dd>' in page
    assert '<dd id="figure-pipeline-influenced">2,500.00 (1 opportunities)</dd>' in page
    assert '<dd id="figure-credited">12,000.00 on 1 won deals (linear attribution)</dd>' in page
    assert "33%: 1 of 3 referrals became opportunities, 0 won" in page
    assert "Next: Gold" in page
    assert "Partner-sourced won revenue: 12,000.00 of 50,000.00" in page
    assert "Certified people: 1 of 3" in page
    assert f'<a href="/portal/referrals/{asked.id}">Answer our referral of {asked.company}</a>' in page
    assert "40,000" not in page and "9,000" not in page and "Other Co" not in page


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    won=st.lists(st.tuples(st.integers(0, 2), st.integers(1, 50)), max_size=6),
    pipeline=st.lists(st.tuples(st.integers(0, 2), st.integers(1, 50)), max_size=4),
    viewer=st.integers(0, 2),
)
def test_a_partner_user_sees_only_its_own_partners_figures(
    session: Session,
    settings: Settings,
    won: list[tuple[int, int]],
    pipeline: list[tuple[int, int]],
    viewer: int,
) -> None:
    """Deals of three partners, each deal touched by one partner only: the viewer's credited revenue and
    sourced pipeline are the sums of its own deals' amounts, whoever else has deals."""
    savepoint = session.begin_nested()
    try:
        today = settings.today()
        partners = [make_partner(session) for _ in range(3)]
        for day, (owner, thousands) in enumerate(won, start=1):
            won_deal(session, partners[owner], f"{thousands}000", today - timedelta(days=day))
        for day, (owner, thousands) in enumerate(pipeline, start=1):
            open_deal(session, partners[owner], f"{thousands}000", today - timedelta(days=day))
        actor = partner_user_actor(make_partner_user(session, partners[viewer]))
        shown = portal_figures(session, actor, settings, today)
        assert shown.partner_id == partners[viewer].id
        assert shown.credited_revenue == sum(t * 1000 for owner, t in won if owner == viewer)
        assert shown.credited_deals == sum(1 for owner, _t in won if owner == viewer)
        assert shown.pipeline["sourced"] == (
            sum(1 for owner, _t in pipeline if owner == viewer),
            sum(t * 1000 for owner, t in pipeline if owner == viewer),
        )
    finally:
        savepoint.rollback()
