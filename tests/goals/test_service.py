"""Setting goals: each field checked with a message naming it, one goal per metric, scope and period."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.accounts.service import user_actor
from ecoops.actors import SYSTEM, Role
from ecoops.audit import AuditEvent
from ecoops.goals import service
from ecoops.goals.models import Goal
from ecoops.goals.service import GoalInput
from ecoops.partners.programs import FieldError
from ecoops.permissions import Forbidden
from tests.factories import make_partner, make_user

Q2 = date(2025, 4, 1)


def _data(**changes: object) -> GoalInput:
    fields: dict[str, object] = {
        "metric": "sourced_revenue",
        "scope": "workspace",
        "period": "quarter",
        "starts_on": Q2,
        "target": "250000",
    }
    return GoalInput(**(fields | changes))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"metric": "revenue"}, "metric: must be one of"),
        ({"scope": "team"}, "scope: must be one of"),
        ({"period": "week"}, "period: must be one of"),
        ({"target": "0"}, "target: must be greater than 0"),
        ({"target": "-5"}, "target: must be greater than 0"),
        ({"target": "abc"}, "target: must be a number"),
        ({"target": "NaN"}, "target: must be greater than 0"),
        ({"target": "1e15"}, "target: must be less than"),
        ({"target": "10.005"}, "target: an amount has at most 2 decimals"),
        ({"metric": "referrals", "target": "2.5"}, "target: referrals counts whole numbers"),
        ({"starts_on": date(2025, 4, 2)}, "starts_on: a quarter starts on the 1st"),
        ({"starts_on": date(2025, 5, 1)}, "starts_on: a quarter starts on 1 Jan, Apr, Jul or Oct"),
        ({"period": "month", "starts_on": date(2025, 5, 31)}, "starts_on: a month starts on the 1st"),
        ({"metric": "partners_in_stage", "target": "3"}, "stage: must be one of"),
        ({"stage": "active"}, "stage: only a partners_in_stage goal names a stage"),
        ({"scope": "partner"}, "scope_id: name the partner"),
        ({"scope": "program", "scope_id": 999999}, "scope_id: no program 999999"),
        ({"scope_id": 3}, "scope_id: the workspace scope names no"),
    ],
)
def test_each_wrong_field_is_named(session: Session, changes: dict[str, object], message: str) -> None:
    with pytest.raises(FieldError, match=message.replace("(", r"\(")):
        service.create_goal(session, SYSTEM, _data(**changes))
    assert session.scalars(select(Goal)).all() == []


def test_a_second_goal_of_the_same_metric_scope_and_period_is_refused_by_name(session: Session) -> None:
    acme = make_partner(session, name="Acme")
    first = service.create_goal(session, SYSTEM, _data(scope="partner", scope_id=acme.id))
    with pytest.raises(FieldError, match="metric: there already is a sourced revenue goal for partner Acme"):
        service.create_goal(session, SYSTEM, _data(scope="partner", scope_id=acme.id, target="1"))
    # Another period, scope, metric or stage is another goal.
    service.create_goal(session, SYSTEM, _data(scope="partner", scope_id=acme.id, period="month"))
    service.create_goal(session, SYSTEM, _data())
    service.create_goal(session, SYSTEM, _data(metric="partners_in_stage", stage="active", target="4"))
    service.create_goal(session, SYSTEM, _data(metric="partners_in_stage", stage="signed", target="4"))
    # Editing one into another's place is refused too; editing it in place is not.
    other = service.create_goal(session, SYSTEM, _data(metric="influenced_revenue"))
    with pytest.raises(FieldError, match="already is"):
        service.update_goal(session, SYSTEM, other, _data())
    service.update_goal(session, SYSTEM, first, _data(scope="partner", scope_id=acme.id, target="300000"))
    assert first.target == Decimal(300000)
    session.expire_all()
    assert (first.metric, session.get(Goal, other.id).metric) == ("sourced_revenue", "influenced_revenue")


def test_changes_are_audited_and_need_the_program_editor(session: Session) -> None:
    viewer = user_actor(make_user(session, Role.VIEWER))
    with pytest.raises(Forbidden):
        service.create_goal(session, viewer, _data())
    manager = user_actor(make_user(session, Role.PARTNER_MANAGER))
    goal = service.create_goal(session, manager, _data())
    service.update_goal(session, manager, goal, _data(target="1000"))
    service.delete_goal(session, manager, goal)
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.target_type == "goal")).all()
    assert actions == ["goal.created", "goal.updated", "goal.deleted"]


def test_listing_on_a_day_finds_its_month_and_quarter(session: Session) -> None:
    quarter = service.create_goal(session, SYSTEM, _data())
    may = service.create_goal(session, SYSTEM, _data(period="month", starts_on=date(2025, 5, 1)))
    service.create_goal(session, SYSTEM, _data(period="month", starts_on=date(2025, 6, 1)))
    service.create_goal(session, SYSTEM, _data(starts_on=date(2025, 7, 1)))
    found = service.list_goals(session, SYSTEM, on=date(2025, 5, 31))
    assert {g.id for g in found.items} == {quarter.id, may.id}
    assert (quarter.ends_on, may.ends_on) == (date(2025, 6, 30), date(2025, 5, 31))
    december = service.create_goal(session, SYSTEM, _data(starts_on=date(2025, 10, 1)))
    assert december.ends_on == date(2025, 12, 31)
