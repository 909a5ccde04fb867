"""Joint account plans take only the partner's overlapping accounts and owners from our people or that
partner's; the partner sees its own list's names. Playbooks keep their steps in order and are published
to all partners or to one."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.accounts.service import InvalidInput
from ecoops.actors import SYSTEM
from ecoops.config import Settings
from ecoops.crm.models import Account
from ecoops.enablement import plans, playbooks
from tests.enablement.scenario import map_alpha, seed
from tests.factories import csrf_from, make_account, make_opportunity, sign_in


@pytest.mark.all_backends
def test_a_plan_takes_only_overlapping_accounts_and_the_partners_own_people(
    session: Session, settings: Settings
) -> None:
    w = seed(session, settings)
    map_alpha(session, settings, w.alpha)
    manager = w.actor(w.manager)
    plan = plans.create_plan(session, manager, partner_id=w.alpha.id, title="Alpha Q3")
    assert [c.our_crm_id for c in plans.candidates(session, manager, plan)] == ["001GLOBEX", "001INITECH"]
    plans.add_account(session, manager, plan, "001GLOBEX")
    with pytest.raises(InvalidInput, match=r"^our_crm_id: '001HOOLI' is not an account overlapping"):
        plans.add_account(session, manager, plan, "001HOOLI")  # ours, but not in Alpha's list
    with pytest.raises(InvalidInput, match=r"^our_crm_id: '001GLOBEX' is not an account overlapping"):
        plans.add_account(session, manager, plan, "001GLOBEX")  # already in
    with pytest.raises(InvalidInput, match=r"^owner: pick one of our people or the partner's"):
        plans.add_action(session, manager, plan, title="Call", owner=f"partner:{w.beta_user.id}", due_on=None)
    with pytest.raises(InvalidInput, match=r"^our_crm_id: '001INITECH' is not one of the plan's accounts"):
        plans.add_action(
            session,
            manager,
            plan,
            title="Call",
            owner=f"ours:{w.seller.id}",
            due_on=None,
            our_crm_id="001INITECH",
        )
    action = plans.add_action(
        session, manager, plan, title="Joint demo", owner=f"partner:{w.alpha_user.id}", due_on=None
    )
    assert (action.side, action.owner, action.status) == ("partner", w.alpha_user.name, "open")
    plans.set_status(session, manager, plan, action.id, "done")
    with pytest.raises(InvalidInput, match=r"^status: must be one of open, in_progress, done, blocked"):
        plans.set_status(session, manager, plan, action.id, "finished")
    ours = plans.plan_accounts(session, manager, plan)
    theirs = plans.plan_accounts(session, w.actor(w.alpha_user), plan)
    assert [r.name for r in ours] == ["Globex"] and [r.name for r in theirs] == ["Their Globex"]
    assert theirs[0].account_id is None  # no link to our account page


@pytest.mark.all_backends
def test_partner_managers_edit_plans_through_the_page_and_sellers_only_read(
    client: TestClient, session: Session, settings: Settings
) -> None:
    w = seed(session, settings)
    map_alpha(session, settings, w.alpha)
    session.flush()
    sign_in(client, w.manager.email)
    token = csrf_from(client.get("/plans").text)
    created = client.post("/plans", data={"csrf_token": token, "partner_id": w.alpha.id, "title": "Alpha Q3"})
    plan_path = created.headers["location"]
    page = client.get(plan_path).text
    assert "Joint plan Alpha Q3 created" in page and "Globex (theirs: Their Globex)" in page
    client.post(f"{plan_path}/accounts", data={"csrf_token": token, "our_crm_id": "001INITECH"})
    client.post(
        f"{plan_path}/actions",
        data={
            "csrf_token": token,
            "title": "Map the rollout",
            "owner": f"ours:{w.seller.id}",
            "due_on": "2025-13-01",
        },
    )
    assert "due_on: &#39;2025-13-01&#39; is not a date (YYYY-MM-DD)" in client.get(plan_path).text
    client.post(
        f"{plan_path}/actions",
        data={
            "csrf_token": token,
            "title": "Map the rollout",
            "owner": f"ours:{w.seller.id}",
            "due_on": "2025-07-01",
        },
    )
    page = client.get(plan_path).text
    assert "Initech" in page and "Map the rollout" in page and "2025-07-01" in page
    client.cookies.clear()
    sign_in(client, w.seller.email)
    token = csrf_from(client.get(plan_path).text)
    assert (
        client.post(
            f"{plan_path}/accounts", data={"csrf_token": token, "our_crm_id": "001GLOBEX"}
        ).status_code
        == 403
    )
    initech = session.scalars(select(Account.id).where(Account.crm_id == "001INITECH")).one()
    account = client.get(f"/accounts/{initech}").text  # the account page lists the plans holding it
    assert f'<a href="{plan_path}">Alpha Q3</a>' in account and "Referral playbook" not in account
    client.cookies.clear()
    sign_in(client, w.alpha_user.email)
    portal = client.get(plan_path.replace("/plans/", "/portal/plans/")).text
    assert "Their Initech" in portal and "Map the rollout" in portal and ">Initech<" not in portal


def test_playbook_steps_keep_their_order_and_publishing_names_the_audience(
    session: Session, settings: Settings
) -> None:
    w = seed(session, settings)
    playbook = w.draft_playbook
    for title in ("Kick-off", "Training", "First joint deal"):
        playbooks.add_step(session, SYSTEM, playbook, title=title, who="partner")
    middle = playbook.steps[1]
    playbooks.remove_step(session, SYSTEM, playbook, middle.id)
    playbooks.add_step(session, SYSTEM, playbook, title="Certification")
    assert [(s.position, s.title) for s in playbook.steps] == [
        (1, "Kick-off"),
        (3, "First joint deal"),
        (4, "Certification"),
    ]
    with pytest.raises(InvalidInput, match=r"^who: must be one of ours, partner, both"):
        playbooks.add_step(session, SYSTEM, playbook, title="X", who="them")
    with pytest.raises(InvalidInput, match=r"^content_id: no content item 999999"):
        playbooks.add_step(session, SYSTEM, playbook, title="X", content_id=999999)
    with pytest.raises(InvalidInput, match=r"^motion: must be one of referral, co_sell, onboarding, resale"):
        playbooks.create_playbook(session, SYSTEM, title="X", motion="any")
    playbooks.publish(session, SYSTEM, playbook, published=True, partner_id=w.alpha.id)
    assert [p.title for p in playbooks.list_playbooks(session, w.actor(w.alpha_user), "onboarding")] == [
        "Draft onboarding"
    ]
    assert playbooks.list_playbooks(session, w.actor(w.beta_user), "onboarding") == []


@pytest.mark.all_backends
def test_a_seller_attaches_content_to_an_opportunity_and_the_account_page_shows_it_with_co_sell_playbooks(
    client: TestClient, session: Session, settings: Settings
) -> None:
    """The account page: the content on its opportunities (not on another account's), the co-sell
    playbooks with their step content, and no referral playbook; an unknown opportunity is refused."""
    w = seed(session, settings)
    ours = make_account(session, crm_id="001HOOLI", name="Hooli")
    deal = make_opportunity(session, crm_id="006HOOLI", account_crm_id=ours.crm_id)
    other = make_account(session, crm_id="001OTHER", name="Other")
    make_opportunity(session, crm_id="006OTHER", account_crm_id=other.crm_id)
    co_sell = playbooks.create_playbook(session, SYSTEM, title="Co-sell together", motion="co_sell")
    playbooks.add_step(session, SYSTEM, co_sell, title="Share the guide", content_id=w.for_all.id)
    playbooks.publish(session, SYSTEM, co_sell, published=True, partner_id=None)
    session.flush()
    sign_in(client, w.seller.email)
    item_page = f"/enablement/content/{w.alpha_file.id}"
    token = csrf_from(client.get(item_page).text)
    form = {"csrf_token": token, "subject": "opportunity"}
    refused = client.post(f"{item_page}/attach", data=form | {"key": "006NOPE"})
    assert "006NOPE" in client.get(refused.headers["location"]).text
    client.post(f"{item_page}/attach", data=form | {"key": deal.crm_id})
    account = client.get(f"/accounts/{ours.id}").text
    assert f'href="/content/{w.alpha_file.id}/open"' in account and "Alpha BOM" in account
    assert "Co-sell together" in account and f'href="/content/{w.for_all.id}/open"' in account
    assert "Referral playbook" not in account
    assert "Alpha BOM" not in client.get(f"/accounts/{other.id}").text
