"""The plans page: a plan created from the form with its terms in words; a bad value re-shows the form
with what was typed and the field named; ending a plan."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.actors import Role
from ecoops.commissions.models import CommissionPlan
from tests.commissions.world import program_with_partners
from tests.factories import csrf_from, make_user, sign_in


def test_create_a_tiered_capped_plan_then_end_it(client: TestClient, session: Session) -> None:
    program, _ = program_with_partners(session)
    sign_in(client, make_user(session, Role.ADMIN).email)
    page = client.get("/commissions/plans").text
    assert "No plans yet" in page
    form = {
        "csrf_token": csrf_from(page),
        "name": "Resale",
        "program_id": str(program.id),
        "kind": "percent",
        "basis": "sourced",
        "rate_from": ["0", "50,000", ""],
        "rate_percent": ["10", "12.5", ""],
        "months": "0",
        "cap_deal": "5,000",
        "clawback_days": "60",
        "valid_from": "2025-01-01",
    }
    assert client.post("/commissions/plans", data=form).status_code == 303
    listed = client.get("/commissions/plans").text
    assert (
        "10%, 12.5% from 50,000.00 a month of sourced revenue, first year, on the close; "
        "cap 5,000.00 USD per deal; clawback 60 days; valid 2025-01-01 on"
    ) in listed
    bad = client.post("/commissions/plans", data=form | {"name": "Typo", "rate_percent": ["ten", "", ""]})
    assert bad.status_code == 400
    assert "rates[1].percent: &#39;ten&#39; is not a percentage" in bad.text and 'value="Typo"' in bad.text
    plan = session.scalars(select(CommissionPlan)).one()
    ended = client.post(
        f"/commissions/plans/{plan.id}/end", data={"csrf_token": csrf_from(listed), "valid_to": "2025-06-30"}
    )
    assert ended.status_code == 303
    session.refresh(plan)
    assert str(plan.valid_to) == "2025-06-30"
