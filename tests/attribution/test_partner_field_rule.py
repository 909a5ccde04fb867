"""The CRM partner field as a workspace rule: waiting for review (the default) or the system of record
(its touches count at once, still disputable), with its history; the importer says which applies."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.actors import SYSTEM, Role
from ecoops.attribution import review, rules
from ecoops.attribution.models import CrmPartnerField, PartnerTouch
from ecoops.config import Settings
from ecoops.engines.metrics import Period
from ecoops.metrics import service
from tests.crm.imports.files import run, write_csv
from tests.factories import bearer, make_partner, make_user

QUERY = service.MetricsQuery(date(2025, 3, 31), Period(date(2025, 1, 1), date(2025, 3, 31)))
HEADER = "Id,AccountId,Name,StageName,Amount,CloseDate,CreatedDate,IsClosed,IsWon,Partner__c\n"


def _sourced(session: Session, settings: Settings) -> object:
    figures = service.report(session, SYSTEM, settings, QUERY, ["revenue"]).figures["revenue"].to_pylist()
    return {r["classification"]: r["revenue"] for r in figures}.get("sourced")


def _record(session: Session, value: CrmPartnerField) -> None:
    rules.change_rules(
        session,
        SYSTEM,
        sourcing_grace_days=7,
        influence_look_back_days=90,
        time_decay_half_life_days=30,
        reason=f"partner field: {value}",
        currency="USD",
        crm_partner_field=value,
    )


@pytest.mark.all_backends
def test_the_rule_decides_what_imported_partner_fields_count_for(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    make_partner(session, name="Acme Partners", crm_id="P-ACME")
    first = HEADER + "O-1,A-1,First,Closed Won,1000,2025-03-01,2025-02-10,true,true,P-ACME\n"
    outcome = run(session, write_csv(tmp_path, first))
    assert (outcome.partner_field_rule, outcome.partner_field_deals) == ("review", 1)
    assert "1 deal whose CRM partner field names a partner: waiting for review" in outcome.summary()
    assert _sourced(session, settings) is None  # a claim until confirmed

    _record(session, CrmPartnerField.RECORD)
    second = first + "O-2,A-2,Second,Closed Won,3000,2025-03-20,2025-03-05,true,true,Acme Partners\n"
    outcome = run(session, write_csv(tmp_path, second))
    assert (outcome.partner_field_rule, outcome.partner_field_deals) == ("record", 2)
    assert (
        "2 deals whose CRM partner field names a partner: counted as that partner's at once"
        in outcome.summary()
    )
    # By hand: both won deals in Q1, each sourced by Acme's crm_source touch on its creation day:
    # 1,000 + 3,000.
    assert _sourced(session, settings) == 4000.0

    # Stored under the rule they enter confirmed, and a reviewer may still dispute one.
    assert review.propose_from_data(session, SYSTEM) == 2
    stored = {t.opportunity_crm_id: t for t in session.scalars(select(PartnerTouch))}
    assert {k: t.status for k, t in stored.items()} == {"O-1": "confirmed", "O-2": "confirmed"}
    review.review_touch(session, SYSTEM, stored["O-1"].id, review.Decision.DISPUTE, "Beta brought it")
    assert _sourced(session, settings) == 3000.0

    # Back to review: a new deal's touch enters proposed again; the history keeps every version.
    _record(session, CrmPartnerField.REVIEW)
    third = second + "O-3,A-3,Third,Closed Won,500,2025-03-25,2025-03-10,true,true,P-ACME\n"
    outcome = run(session, write_csv(tmp_path, third))
    assert (outcome.partner_field_rule, outcome.partner_field_deals) == ("review", 1)
    assert _sourced(session, settings) == 3000.0
    review.propose_from_data(session, SYSTEM)
    assert (
        session.scalar(select(PartnerTouch.status).where(PartnerTouch.opportunity_crm_id == "O-3"))
        == "proposed"
    )
    assert [h.crm_partner_field for h in rules.history(session, SYSTEM)] == ["review", "record"]


def test_the_rule_through_the_api_and_the_page(client: TestClient, session: Session) -> None:
    headers = bearer(session, make_user(session, Role.OPS))
    body = {"sourcing_grace_days": 7, "influence_look_back_days": 90, "time_decay_half_life_days": 30}
    changed = client.post(
        "/api/v1/attribution/rules",
        json=body | {"crm_partner_field": "record", "reason": "the CRM is right"},
        headers=headers,
    )
    assert (changed.status_code, changed.json()["crm_partner_field"]) == (201, "record")
    kept = client.post("/api/v1/attribution/rules", json=body | {"reason": "grace only"}, headers=headers)
    assert kept.json()["crm_partner_field"] == "record"  # not given: the rule in force stays
    bad = client.post(
        "/api/v1/attribution/rules",
        json=body | {"crm_partner_field": "maybe", "reason": "x"},
        headers=headers,
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "crm_partner_field"]
    assert [
        h["crm_partner_field"] for h in client.get("/api/v1/attribution/rules", headers=headers).json()
    ] == [
        "record",
        "record",
    ]
