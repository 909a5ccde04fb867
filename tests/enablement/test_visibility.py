"""A partner user sees only the content for all partners and for its own partner, the playbooks published
to it, and its own partner's joint plans: by service, by page, by guessing ids; and not through the API,
which partner users cannot call at all."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecoops.actors import SYSTEM
from ecoops.config import Settings
from ecoops.enablement import content, plans, playbooks
from ecoops.enablement.models import ContentUse
from ecoops.enablement.panels import step_contents
from ecoops.permissions import NotFound
from tests.enablement.scenario import seed
from tests.factories import bearer, sign_in


@pytest.mark.all_backends
def test_services_narrow_a_partner_user_to_its_own(session: Session, settings: Settings) -> None:
    w = seed(session, settings)
    alpha, beta = w.actor(w.alpha_user), w.actor(w.beta_user)
    listed = content.search_content(session, alpha, content.ContentFilters()).items
    assert {i.title for i in listed} == {"Joint value guide", "Alpha BOM"}
    with pytest.raises(NotFound):
        content.get_content(session, alpha, w.beta_file.id)
    assert [p.title for p in playbooks.list_playbooks(session, alpha)] == ["Referral playbook"]
    assert [p.title for p in playbooks.list_playbooks(session, beta)] == ["Beta co-sell", "Referral playbook"]
    for actor in (alpha, beta):
        with pytest.raises(NotFound):
            playbooks.get_playbook(session, actor, w.draft_playbook.id)
    with pytest.raises(NotFound):
        playbooks.get_playbook(session, alpha, w.beta_playbook.id)
    # The public playbook's second step holds Alpha's file: Beta sees the step, not the file.
    assert set(step_contents(session, alpha, [w.public_playbook])) == {w.for_all.id, w.alpha_file.id}
    assert set(step_contents(session, beta, [w.public_playbook])) == {w.for_all.id}
    plan = plans.create_plan(session, SYSTEM, partner_id=w.alpha.id, title="Alpha Q3")
    assert plans.list_plans(session, alpha) == [plan] and plans.list_plans(session, beta) == []
    with pytest.raises(NotFound):
        plans.get_plan(session, beta, plan.id)


@pytest.mark.all_backends
def test_a_partner_user_cannot_reach_another_partners_records_by_page_or_id(
    client: TestClient, session: Session, settings: Settings
) -> None:
    w = seed(session, settings)
    alpha_plan = plans.create_plan(session, SYSTEM, partner_id=w.alpha.id, title="Alpha Q3 plan")
    session.flush()
    sign_in(client, w.beta_user.email)
    portal = client.get("/portal/enablement")
    assert portal.status_code == 200
    text = portal.text
    assert "Joint value guide" in text and "Beta BOM" in text and "Beta co-sell" in text
    assert "Alpha BOM" not in text and "Alpha Q3 plan" not in text and "Draft onboarding" not in text
    assert "No joint plans yet" in text
    # Guessing the ids of another partner's item, plan and unpublished playbook: not found, no use kept.
    assert client.get(f"/content/{w.alpha_file.id}/open").status_code == 404
    assert client.get(f"/portal/plans/{alpha_plan.id}").status_code == 404
    assert client.get(f"/portal/playbooks/{w.draft_playbook.id}").status_code == 404
    assert session.scalar(select(func.count()).select_from(ContentUse)) == 0
    assert client.get(f"/portal/playbooks/{w.beta_playbook.id}").status_code == 200
    public = client.get(f"/portal/playbooks/{w.public_playbook.id}").text
    assert "Send the BOM" in public and "Alpha BOM" not in public
    # Internal pages and the API are closed to partner users.
    assert client.get("/enablement").status_code == 403
    assert client.get(f"/plans/{alpha_plan.id}").status_code == 403
    assert client.get("/api/v1/content").status_code == 401
    # Its own: the file downloads, its own plan opens.
    assert client.get(f"/content/{w.beta_file.id}/open").content == b"Beta BOM body"
    client.cookies.clear()
    sign_in(client, w.alpha_user.email)
    assert "Alpha Q3 plan" in client.get(f"/portal/plans/{alpha_plan.id}").text


def test_the_api_lists_every_item_with_its_counts_for_our_people(
    client: TestClient, session: Session, settings: Settings
) -> None:
    w = seed(session, settings)
    headers = bearer(session, w.seller)
    listed = client.get("/api/v1/content", params={"partner_id": w.alpha.id}, headers=headers).json()
    assert {i["title"] for i in listed["items"]} == {"Joint value guide", "Alpha BOM"}
    assert client.get(f"/api/v1/content/{w.beta_file.id}", headers=headers).json()["title"] == "Beta BOM"
    assert client.get("/api/v1/content/999999", headers=headers).status_code == 404
    found = client.get("/api/v1/playbooks", params={"motion": "referral"}, headers=headers).json()
    assert [(p["title"], [s["title"] for s in p["steps"]]) for p in found] == [
        ("Referral playbook", ["Qualify", "Send the BOM"])
    ]
