"""REST routes for automation rules under /api/v1/automation: list, read, create, and try one on the
stored events of the last days (nothing is sent)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor
from ecoops.audit import utcnow
from ecoops.automation import rules
from ecoops.automation.conditions import Conditions
from ecoops.automation.dispatch import preview
from ecoops.automation.rules import Action, Rule, RuleInput
from ecoops.config import Settings
from ecoops.permissions import Permission
from ecoops.web.deps import api_permission, app_settings, db
from ecoops.web.fields import Id, UtcDateTime

router = APIRouter(prefix="/automation", tags=["automation"])
reader = api_permission(Permission.READ_PROGRAM)
manager = api_permission(Permission.MANAGE_AUTOMATION)


class ActionIO(BaseModel):
    kind: str = Field(description="slack | email | webhook | task")
    to: str = Field(
        description="channel | account_owner | partner_manager | partner_contacts | address | user | endpoint"
    )
    value: str = Field(
        "", description="the channel id, e-mail address, user id or endpoint id the recipient needs"
    )
    due_days: int = Field(3, ge=0, le=365, description="tasks: due this many days after the event")


class RuleIn(BaseModel):
    name: str
    trigger: str = Field(description="an event kind, e.g. overlap.began")
    conditions: dict[str, Any] = Field(
        default_factory=dict,
        description="any of partner_id, program_id, tier_id, partner_type, population, min_amount, "
        "account_owner",
    )
    actions: list[ActionIO]
    subject_template: str = ""
    body_template: str = ""
    enabled: bool = False


class RuleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    trigger: str
    enabled: bool
    enabled_since: UtcDateTime | None
    conditions: dict[str, Any]
    actions: list[ActionIO]
    subject_template: str
    body_template: str


class PlannedOut(BaseModel):
    event_uid: str
    occurred_at: UtcDateTime
    action: str
    recipient: str
    target: str
    problem: str
    subject: str
    text: str


class PreviewOut(BaseModel):
    events: int = Field(description="events of the rule's trigger in the period")
    planned: list[PlannedOut]


def _input(body: RuleIn) -> RuleInput:
    text = {k: "" if v is None else str(v) for k, v in body.conditions.items()}
    unknown = set(text) - set(Conditions.__dataclass_fields__)
    if unknown:
        raise InvalidInput(f"unknown condition {sorted(unknown)[0]!r}")
    return RuleInput(
        name=body.name,
        trigger=body.trigger,
        conditions=Conditions.parse(text),
        actions=[Action(**a.model_dump()) for a in body.actions],
        subject_template=body.subject_template,
        body_template=body.body_template,
    )


@router.get("/rules", response_model=list[RuleOut])
def list_rules(actor: Actor = Depends(reader), session: Session = Depends(db)) -> list[Rule]:
    """Every automation rule, with its trigger, conditions and actions."""
    return rules.list_rules(session, actor)


@router.post("/rules", response_model=RuleOut, status_code=201)
def create_rule(body: RuleIn, actor: Actor = Depends(manager), session: Session = Depends(db)) -> Rule:
    """A new rule; off unless `enabled` (it then acts on events from now on)."""
    return rules.create_rule(session, actor, _input(body), enabled=body.enabled)


@router.get("/rules/{rule_id}", response_model=RuleOut)
def get_rule(rule_id: Id, actor: Actor = Depends(reader), session: Session = Depends(db)) -> Rule:
    """One automation rule."""
    return rules.get_rule(session, actor, rule_id)


@router.get("/rules/{rule_id}/preview", response_model=PreviewOut)
def try_rule(
    rule_id: Id,
    days: int = Query(30, ge=1, le=90),
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> PreviewOut:
    """What the rule would have sent for the stored events of the last `days` days; nothing is sent."""
    rule = rules.get_rule(session, actor, rule_id)
    total, plans = preview(session, actor, rule, settings, now=utcnow(), days=days)
    return PreviewOut(
        events=total,
        planned=[
            PlannedOut(
                event_uid=p.event.uid,
                occurred_at=p.event.occurred_at,
                action=p.action.kind,
                recipient=p.target.label,
                target=p.target.address,
                problem=p.target.problem,
                subject=p.message.subject,
                text=p.message.text,
            )
            for p in plans
        ],
    )
