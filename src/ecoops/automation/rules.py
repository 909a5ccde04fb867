"""Automation rules: a trigger (an event kind), conditions on the event, and actions (who is told how).

A rule acts only on events that occurred while it was switched on (`enabled_since`): switching a rule
on never replays history at people; "try this rule on the last 30 days" (dispatch.preview) does that
on screen instead.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ecoops import audit
from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor
from ecoops.audit import utcnow
from ecoops.automation.conditions import Conditions
from ecoops.automation.templates import check_template
from ecoops.db import Base
from ecoops.events.models import EventKind
from ecoops.permissions import NotFound, Permission, require

MAX_ACTIONS = 10


class ActionKind(StrEnum):
    SLACK = "slack"
    EMAIL = "email"
    WEBHOOK = "webhook"
    TASK = "task"


class To(StrEnum):
    """Who an action is for; which kinds accept which is in ALLOWED_RECIPIENTS."""

    CHANNEL = "channel"  # a Slack channel id (value)
    ACCOUNT_OWNER = "account_owner"  # the CRM owner of the event's account, resolved to a user
    PARTNER_MANAGER = "partner_manager"  # the partner's owner (Partner.owner_id)
    PARTNER_CONTACTS = "partner_contacts"  # the partner's active portal users
    ADDRESS = "address"  # an e-mail address (value)
    USER = "user"  # one of our users (value: the user id)
    ENDPOINT = "endpoint"  # a webhook endpoint (value: its id)


ALLOWED_RECIPIENTS: dict[ActionKind, tuple[To, ...]] = {
    ActionKind.SLACK: (To.CHANNEL, To.ACCOUNT_OWNER, To.PARTNER_MANAGER, To.USER),
    ActionKind.EMAIL: (To.ACCOUNT_OWNER, To.PARTNER_MANAGER, To.PARTNER_CONTACTS, To.ADDRESS, To.USER),
    ActionKind.WEBHOOK: (To.ENDPOINT,),
    ActionKind.TASK: (To.ACCOUNT_OWNER, To.PARTNER_MANAGER, To.USER),
}
NEEDS_VALUE = frozenset({To.CHANNEL, To.ADDRESS, To.USER, To.ENDPOINT})


@dataclass(frozen=True)
class Action:
    kind: str  # ActionKind
    to: str  # To
    value: str = ""  # channel id, e-mail address, user id or endpoint id, as `to` needs
    due_days: int = 3  # tasks: due this many days after the event

    def describe(self) -> str:
        who = self.to.replace("_", " ") + (f" {self.value}" if self.value else "")
        return f"{self.kind} to {who}"


class Rule(Base):
    __tablename__ = "automation_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    trigger: Mapped[str] = mapped_column(String(40), index=True)  # an EventKind
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    enabled_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    conditions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    subject_template: Mapped[str] = mapped_column(Text, default="")  # empty: the trigger's default
    body_template: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @property
    def condition_set(self) -> Conditions:
        return Conditions.from_json(self.conditions)

    @property
    def action_list(self) -> list[Action]:
        return [Action(**a) for a in self.actions]


@dataclass(frozen=True)
class RuleInput:
    name: str
    trigger: str
    conditions: Conditions
    actions: list[Action]
    subject_template: str = ""
    body_template: str = ""


def clean_action(action: Action) -> Action:
    """The action checked: a known kind, a recipient that kind can reach, and the value it needs."""
    if action.kind not in set(ActionKind):
        raise InvalidInput(f"unknown action {action.kind!r}; one of {', '.join(ActionKind)}")
    kind = ActionKind(action.kind)
    if action.to not in ALLOWED_RECIPIENTS[kind]:
        allowed = ", ".join(t.replace("_", " ") for t in ALLOWED_RECIPIENTS[kind])
        raise InvalidInput(f"a {kind} action cannot go to {action.to.replace('_', ' ')!r} (only: {allowed})")
    value = action.value.strip()
    if To(action.to) in NEEDS_VALUE and not value:
        raise InvalidInput(f"a {kind} action to a {action.to.replace('_', ' ')} needs one named")
    if To(action.to) == To.ADDRESS and ("@" not in value or any(c.isspace() for c in value)):
        raise InvalidInput(f"not an e-mail address: {value[:60]!r}")
    if To(action.to) in (To.USER, To.ENDPOINT) and not value.isdigit():
        raise InvalidInput(f"{action.to} must be given by its id, not {value[:40]!r}")
    if not 0 <= action.due_days <= 365:
        raise InvalidInput("a task's due days must be between 0 and 365")
    return Action(
        kind=kind.value,
        to=action.to,
        value=value if To(action.to) in NEEDS_VALUE else "",
        due_days=action.due_days,
    )


def _clean(data: RuleInput) -> RuleInput:
    name = data.name.strip()
    if not name or len(name) > 120:
        raise InvalidInput("a rule needs a name of at most 120 characters")
    if data.trigger not in set(EventKind):
        raise InvalidInput(f"unknown trigger {data.trigger!r}")
    if not data.actions:
        raise InvalidInput("a rule needs at least one action")
    if len(data.actions) > MAX_ACTIONS:
        raise InvalidInput(f"a rule takes at most {MAX_ACTIONS} actions")
    for template in (data.subject_template, data.body_template):
        check_template(template)
    return RuleInput(
        name=name,
        trigger=data.trigger,
        conditions=data.conditions.cleaned(),
        actions=[clean_action(a) for a in data.actions],
        subject_template=data.subject_template.strip(),
        body_template=data.body_template.strip(),
    )


def list_rules(session: Session, actor: Actor) -> list[Rule]:
    require(actor, Permission.READ_PROGRAM)
    return list(session.scalars(select(Rule).order_by(Rule.name, Rule.id)))


def get_rule(session: Session, actor: Actor, rule_id: int) -> Rule:
    require(actor, Permission.READ_PROGRAM)
    rule = session.get(Rule, rule_id)
    if rule is None:
        raise NotFound(f"no rule {rule_id}")
    return rule


def _fill(rule: Rule, data: RuleInput) -> None:
    rule.name, rule.trigger = data.name, data.trigger
    rule.conditions = data.conditions.to_json()
    rule.actions = [asdict(a) for a in data.actions]
    rule.subject_template, rule.body_template = data.subject_template, data.body_template
    rule.updated_at = utcnow()


def create_rule(session: Session, actor: Actor, data: RuleInput, *, enabled: bool = False) -> Rule:
    """A new rule, off unless `enabled` (try it on the last 30 days first)."""
    require(actor, Permission.MANAGE_AUTOMATION)
    data = _clean(data)
    rule = Rule(created_by=actor.label, enabled=enabled, enabled_since=utcnow() if enabled else None)
    _fill(rule, data)
    session.add(rule)
    session.flush()
    audit.record(
        session, actor, "rule.created", "rule", rule.id, name=rule.name, trigger=rule.trigger, enabled=enabled
    )
    return rule


def update_rule(session: Session, actor: Actor, rule_id: int, data: RuleInput) -> Rule:
    require(actor, Permission.MANAGE_AUTOMATION)
    rule = get_rule(session, actor, rule_id)
    data = _clean(data)
    _fill(rule, data)
    session.flush()
    audit.record(
        session,
        actor,
        "rule.updated",
        "rule",
        rule.id,
        name=rule.name,
        trigger=rule.trigger,
        conditions=rule.conditions,
        actions=rule.actions,
    )
    return rule


def set_enabled(session: Session, actor: Actor, rule_id: int, enabled: bool) -> Rule:
    """Switch a rule on (from now: earlier events are not replayed) or off."""
    require(actor, Permission.MANAGE_AUTOMATION)
    rule = get_rule(session, actor, rule_id)
    if rule.enabled != enabled:
        rule.enabled = enabled
        rule.enabled_since = utcnow() if enabled else None
        session.flush()
        audit.record(session, actor, "rule.enabled" if enabled else "rule.disabled", "rule", rule.id)
    return rule


def delete_rule(session: Session, actor: Actor, rule_id: int) -> None:
    """Remove a rule; its deliveries stay in the log (they keep the rule id)."""
    require(actor, Permission.MANAGE_AUTOMATION)
    rule = get_rule(session, actor, rule_id)
    audit.record(session, actor, "rule.deleted", "rule", rule.id, name=rule.name)
    session.delete(rule)
    session.flush()
