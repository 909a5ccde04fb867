"""Attribution review: proposals stored from the partner-source field, decisions with reasons, audited, and
figures that move only once a touch is confirmed; the rules with their history."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.accounts.service import user_actor
from ecoops.actors import SYSTEM, Role
from ecoops.attribution import review, rules
from ecoops.attribution.models import PartnerTouch
from ecoops.audit import AuditEvent
from ecoops.config import Settings
from ecoops.engines.metrics import Period
from ecoops.metrics import service
from ecoops.permissions import Forbidden
from tests.factories import bearer, csrf_from, make_user, sign_in
from tests.metrics.scenario import AS_OF, Q1, seed

QUERY = service.MetricsQuery(AS_OF, Period(*Q1))


def _sourced(session: Session, settings: Settings) -> dict[str, object]:
    figures = service.report(session, SYSTEM, settings, QUERY, ["revenue"]).figures["revenue"].to_pylist()
    return {r["classification"]: r["revenue"] for r in figures}


@pytest.mark.all_backends
def test_proposals_are_stored_once_and_count_only_when_confirmed(
    session: Session, settings: Settings
) -> None:
    scenario = seed(session)
    manager = user_actor(make_user(session, Role.PARTNER_MANAGER))
    assert review.unproposed_count(session, manager) == 2
    assert review.propose_from_data(session, manager) == 2
    assert review.propose_from_data(session, manager) == 0  # idempotent
    proposed = {row.touch.opportunity_crm_id: row for row in review.touches(session, manager)}
    assert set(proposed) == {scenario.deals[1].crm_id, scenario.deals[2].crm_id}
    assert proposed[scenario.deals[2].crm_id].partner_name == "Acme Partners"

    # Deal 2 is influenced (2,000); Acme's crm_source touch on its creation day sources it once confirmed.
    assert _sourced(session, settings) == {"sourced": 4000.0, "influenced": 2000.0}
    touch = review.review_touch(
        session, manager, proposed[scenario.deals[2].crm_id].touch.id, review.Decision.CONFIRM, "in the CRM"
    )
    assert (touch.status, touch.review_reason) == ("confirmed", "in the CRM")
    assert _sourced(session, settings) == {"sourced": 6000.0, "influenced": None}
    disputed = review.review_touch(
        session,
        manager,
        proposed[scenario.deals[1].crm_id].touch.id,
        review.Decision.DISPUTE,
        "Beta referred it",
    )
    assert disputed.status == "disputed"
    events = session.scalars(select(AuditEvent).where(AuditEvent.action.like("touch%"))).all()
    assert {(e.action, e.details.get("reason")) for e in events} >= {
        ("touch.confirmed", "in the CRM"),
        ("touch.disputed", "Beta referred it"),
    }
    assert any(e.action == "touches.proposed" and e.details["count"] == 2 for e in events)


def test_a_reason_is_required_and_sales_may_not_review(session: Session) -> None:
    seed(session)
    review.propose_from_data(session, SYSTEM)
    touch_id = session.scalars(select(PartnerTouch.id).where(PartnerTouch.status == "proposed")).first()
    assert touch_id is not None
    with pytest.raises(ValueError, match="reason"):
        review.review_touch(session, SYSTEM, touch_id, review.Decision.CONFIRM, "  ")
    with pytest.raises(Forbidden):
        review.review_touch(
            session, user_actor(make_user(session, Role.SALES)), touch_id, review.Decision.CONFIRM, "x"
        )


def test_rules_history_and_their_use(session: Session, settings: Settings) -> None:
    seed(session)
    ops = user_actor(make_user(session, Role.OPS))
    assert rules.history(session, ops) == []
    with pytest.raises(ValueError):
        rules.change_rules(
            session,
            ops,
            sourcing_grace_days=7,
            influence_look_back_days=90,
            time_decay_half_life_days=0,
            reason="x",
            currency="USD",
        )
    with pytest.raises(Forbidden):
        rules.change_rules(
            session,
            user_actor(make_user(session, Role.PARTNER_MANAGER)),
            sourcing_grace_days=1,
            influence_look_back_days=1,
            time_decay_half_life_days=1,
            reason="x",
            currency="USD",
        )
    rules.change_rules(
        session,
        ops,
        sourcing_grace_days=1,
        influence_look_back_days=90,
        time_decay_half_life_days=30,
        reason="stricter",
        currency="USD",
    )
    rules.change_rules(
        session,
        ops,
        sourcing_grace_days=14,
        influence_look_back_days=30,
        time_decay_half_life_days=15,
        reason="agreed with sales",
        currency="USD",
    )
    assert [h.reason for h in rules.history(session, ops)] == ["agreed with sales", "stricter"]
    assert rules.settings_in_force(session, "EUR").influence_look_back_days == 30
    event = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "metric_settings.changed")
        .order_by(AuditEvent.id.desc())
    ).first()
    assert event is not None and event.details["before"]["sourcing_grace_days"] == 1
    assert event.details["after"]["sourcing_grace_days"] == 14


def test_review_and_rules_pages(session: Session, client: TestClient) -> None:
    scenario = seed(session)
    manager = make_user(session, Role.PARTNER_MANAGER)
    session.flush()
    sign_in(client, manager.email)
    page = client.get("/attribution/touches")
    assert "2 opportunities name a partner" in page.text
    assert client.post("/attribution/proposals", data={"csrf_token": csrf_from(page.text)}).status_code == 303
    page = client.get("/attribution/touches")
    assert scenario.deals[1].name in page.text
    touch = session.scalars(
        select(PartnerTouch).where(
            PartnerTouch.opportunity_crm_id == scenario.deals[1].crm_id, PartnerTouch.status == "proposed"
        )
    ).one()
    done = client.post(
        f"/attribution/touches/{touch.id}/review",
        data={"csrf_token": csrf_from(page.text), "decision": "dispute", "reason": "Beta referred it"},
    )
    assert done.status_code == 303
    disputed = client.get("/attribution/touches?status=disputed").text
    assert "Beta referred it" in disputed
    rules_page = client.get("/attribution/rules").text
    assert (
        "never been changed" in rules_page and 'name="reason"' not in rules_page
    )  # managers may not change them


def test_review_and_rules_through_the_api(session: Session, client: TestClient, settings: Settings) -> None:
    scenario = seed(session)
    review.propose_from_data(session, SYSTEM)
    manager = make_user(session, Role.PARTNER_MANAGER)
    headers = bearer(session, manager)
    proposed = client.get("/api/v1/attribution/touches", headers=headers).json()
    deal_2 = next(t for t in proposed if t["opportunity_crm_id"] == scenario.deals[2].crm_id)
    assert (deal_2["kind"], deal_2["status"]) == ("crm_source", "proposed")
    refused = client.post(
        f"/api/v1/attribution/touches/{deal_2['id']}/review",
        json={"decision": "confirm", "reason": ""},
        headers=headers,
    )
    assert refused.status_code == 422
    done = client.post(
        f"/api/v1/attribution/touches/{deal_2['id']}/review",
        json={"decision": "confirm", "reason": "CRM field checked"},
        headers=headers,
    ).json()
    assert (done["status"], done["review_reason"], done["reviewed_by"]) == (
        "confirmed",
        "CRM field checked",
        manager.email,
    )
    assert _sourced(session, settings) == {"sourced": 6000.0, "influenced": None}
    assert client.get("/api/v1/attribution/rules", headers=headers).json() == []
    ops_headers = bearer(session, make_user(session, Role.OPS))
    rules_in = {
        "sourcing_grace_days": 3,
        "influence_look_back_days": 30,
        "time_decay_half_life_days": 10,
        "reason": "QBR",
    }
    assert client.post("/api/v1/attribution/rules", json=rules_in, headers=headers).status_code == 403
    created = client.post("/api/v1/attribution/rules", json=rules_in, headers=ops_headers)
    assert created.status_code == 201 and created.json()["reason"] == "QBR"
    assert [
        r["sourcing_grace_days"] for r in client.get("/api/v1/attribution/rules", headers=headers).json()
    ] == [3]


def test_ticked_touches_are_reviewed_together_or_not_at_all(session: Session, client: TestClient) -> None:
    seed(session)
    manager = make_user(session, Role.PARTNER_MANAGER)
    session.flush()
    manager_actor = user_actor(manager)
    review.propose_from_data(session, manager_actor)
    proposed = [row.touch for row in review.touches(session, manager_actor, "proposed", kind="crm_source")]
    assert len(proposed) == 2
    sign_in(client, manager.email)
    page = client.get("/attribution/touches?kind=crm_source")
    assert 'form="bulk"' in page.text and "Confirm ticked" in page.text

    unknown = client.post(
        "/attribution/touches/review",
        data={
            "csrf_token": csrf_from(page.text),
            "touch_id": [str(proposed[0].id), "999999"],
            "decision": "confirm",
            "reason": "agreed in the QBR",
        },
    )
    assert unknown.status_code == 404
    session.expire_all()
    assert {t.status for t in proposed} == {"proposed"}  # nothing half-written

    done = client.post(
        "/attribution/touches/review",
        data={
            "csrf_token": csrf_from(page.text),
            "touch_id": [str(t.id) for t in proposed],
            "decision": "confirm",
            "reason": "agreed in the QBR",
            "kind": "crm_source",
        },
    )
    assert done.status_code == 303 and done.headers["location"] == "/attribution/touches?kind=crm_source"
    session.expire_all()
    assert {(t.status, t.review_reason) for t in proposed} == {("confirmed", "agreed in the QBR")}
    audited = session.scalars(select(AuditEvent).where(AuditEvent.action == "touch.confirmed")).all()
    assert sorted(int(e.target_id) for e in audited) == sorted(t.id for t in proposed)
    assert review.touches(session, manager_actor, "proposed", kind="crm_source") == []
