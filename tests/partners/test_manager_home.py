"""A partner manager's home: their own partners' recent changes and what waits for their review."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ecoops.actors import SYSTEM, Role
from ecoops.attribution.models import PartnerTouch
from ecoops.config import Settings
from ecoops.goals.service import GoalInput, create_goal, period_start
from ecoops.partners import programs
from ecoops.partners.editing import PartnerEdit, update_partner
from ecoops.partners.models import TierProposal
from ecoops.referrals.models import Direction, Kind, Referral, Status, Via
from tests.factories import make_partner, make_user, sign_in


def submitted(session: Session, partner_id: int, company: str) -> Referral:
    referral = Referral(
        direction=Direction.INBOUND.value,
        kind=Kind.DEAL_REGISTRATION.value,
        partner_id=partner_id,
        company=company,
        status=Status.SUBMITTED.value,
        submitted_via=Via.PORTAL.value,
    )
    session.add(referral)
    session.flush()
    return referral


def test_a_partner_manager_lands_on_their_partners_changes_and_reviews(
    client: TestClient, session: Session
) -> None:
    """Olga manages Alpha and Beta, Carl manages Gamma. Waiting for Olga: Beta's tier proposal, Alpha's
    proposed co-sell touch, Beta's registration of Initech: 3. Gamma's registration and tier change are
    Carl's. Olga's recent changes: Alpha moved Silver → Gold on 2025-03-10 (and the partners' creation)."""
    olga = make_user(session, Role.PARTNER_MANAGER, name="Olga", email="olga@example.com")
    carl = make_user(session, Role.PARTNER_MANAGER, name="Carl", email="carl@example.com")
    program = programs.create_program(session, SYSTEM, name="Resell PM", tiers=["Silver", "Gold"])
    silver, gold = program.tiers
    alpha = make_partner(session, name="Alpha", owner_id=olga.id, tiers=[silver])
    beta = make_partner(session, name="Beta", owner_id=olga.id, tiers=[silver])
    gamma = make_partner(session, name="Gamma", owner_id=carl.id, tiers=[silver])
    for partner in (alpha, gamma):
        update_partner(
            session,
            SYSTEM,
            partner.id,
            PartnerEdit(tier_ids=[gold.id]),
            on=date(2025, 3, 10),
            today=date(2025, 3, 10),
        )
    session.add(
        TierProposal(
            partner_id=beta.id,
            program_id=program.id,
            from_tier_id=silver.id,
            to_tier_id=gold.id,
            direction="upgrade",
            as_of=date(2025, 3, 31),
            figures=[],
        )
    )
    session.add(
        PartnerTouch(
            partner_id=alpha.id,
            opportunity_crm_id="006ALPHA",
            kind="co_sell",
            touched_on=date(2025, 3, 5),
            status="proposed",
        )
    )
    session.add(
        PartnerTouch(
            partner_id=gamma.id,
            opportunity_crm_id="006GAMMA",
            kind="co_sell",
            touched_on=date(2025, 3, 5),
            status="proposed",
        )
    )
    initech = submitted(session, beta.id, "Initech")
    submitted(session, gamma.id, "Hooli")
    session.flush()

    sign_in(client, "olga@example.com")
    assert client.get("/").headers["location"] == "/home/partners"
    page = client.get("/home/partners").text
    assert "Waiting for your review (3)" in page
    assert "upgrade to Gold (evaluated 2025-03-31)" in page
    assert "co sell on 006ALPHA (2025-03-05)" in page
    assert f'<a href="/referrals/{initech.id}">deal registration: Initech</a>' in page
    assert "tier: Resell PM · Silver → Resell PM · Gold" in page and "2025-03-10" in page
    assert "Gamma" not in page and "Hooli" not in page and "006GAMMA" not in page

    client.cookies.clear()
    sign_in(client, make_user(session, Role.PARTNER_MANAGER, email="newbie@example.com").email)
    assert "You manage no partner yet" in client.get("/home/partners").text


def test_the_home_shows_the_goals_of_the_workspace_the_manager_and_their_partners(
    client: TestClient, session: Session, settings: Settings
) -> None:
    """Olga manages Alpha; Carl manages Gamma. Olga sees the workspace's quarter goal, her own and Alpha's,
    not Gamma's; none has an actual yet (no deals), so each is at 0 % of its target."""
    olga = make_user(session, Role.PARTNER_MANAGER, name="Olga", email="olga@example.com")
    carl = make_user(session, Role.PARTNER_MANAGER, name="Carl", email="carl@example.com")
    alpha = make_partner(session, name="Alpha", owner_id=olga.id)
    gamma = make_partner(session, name="Gamma", owner_id=carl.id)
    quarter = period_start("quarter", settings.today())
    for scope, scope_id, target in (
        ("workspace", None, 900_000),
        ("manager", olga.id, 310_000),
        ("partner", alpha.id, 120_000),
        ("partner", gamma.id, 770_000),
    ):
        data = GoalInput("sourced_revenue", scope, "quarter", quarter, target, scope_id)
        create_goal(session, SYSTEM, data)
    session.flush()

    sign_in(client, "olga@example.com")
    goals = client.get("/home/partners").text.split('id="my-goals"')[1].split("</section>")[0]
    assert all(f"{target:,}" in goals for target in (900_000, 310_000, 120_000))
    assert "770,000" not in goals and "Gamma" not in goals
    assert goals.count('<tr id="goal-') == 3 and goals.count("<small>0 % of target") == 3

    client.cookies.clear()
    sign_in(client, make_user(session, Role.PARTNER_MANAGER, email="other@example.com").email)
    other = client.get("/home/partners").text
    assert "You manage no partner yet" in other
