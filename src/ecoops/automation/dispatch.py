"""Events to deliveries: every enabled rule whose trigger and conditions match an undispatched event
turns each of its actions into deliveries (or tasks), then the event is marked dispatched.

Running it twice is harmless: a dispatched event is not read again, and deliveries and tasks carry
ids derived from (event, rule, channel, target), so a crash between enqueueing and marking — or two
workers on the same event — adds nothing twice. `preview` runs the same planning over stored events
without writing anything ("try this rule on the last 30 days").
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.actors import Actor
from ecoops.automation.conditions import FactSource
from ecoops.automation.deliveries import Channel, enqueue
from ecoops.automation.messages import Message
from ecoops.automation.recipients import Resolver, Target
from ecoops.automation.rules import Action, ActionKind, Rule
from ecoops.automation.tasks import add_task
from ecoops.automation.templates import build_message
from ecoops.config import Settings
from ecoops.events.models import Event
from ecoops.permissions import Permission, require
from ecoops.referrals.queries import as_utc

log = logging.getLogger(__name__)
BATCH = 500
PREVIEW_EVENTS = 5000
CHANNELS = {
    ActionKind.SLACK: Channel.SLACK,
    ActionKind.EMAIL: Channel.EMAIL,
    ActionKind.WEBHOOK: Channel.WEBHOOK,
}


@dataclass(frozen=True)
class Planned:
    """One thing a rule would send (or, with `target.problem`, could not) for one event."""

    rule: Rule
    event: Event
    action: Action
    target: Target
    message: Message


class Planner:
    """Plans rules against events, sharing partner facts and resolved people across events."""

    def __init__(self, session: Session, settings: Settings) -> None:
        self.settings = settings
        self.facts = FactSource(session)
        self.resolver = Resolver(session)

    def plan(self, rule: Rule, event: Event) -> Iterator[Planned]:
        if rule.trigger != event.kind or not rule.condition_set.matches(self.facts.facts(event)):
            return
        for action in rule.action_list:
            for target in self.resolver.targets(action, event):
                mention = self.resolver.mention(event) if action.kind == ActionKind.SLACK else ""
                message = build_message(
                    event,
                    subject_template=rule.subject_template,
                    body_template=rule.body_template,
                    base_url=self.settings.link_base,
                    currency=self.settings.currency,
                    mention=mention,
                )
                yield Planned(rule, event, action, target, message)


def _task_uid(event: Event, rule: Rule, user_id: int) -> str:
    key = f"{event.uid}\x1f{rule.id}\x1ftask\x1f{user_id}"
    return "tsk_" + hashlib.sha256(key.encode()).hexdigest()[:40]


def carry_out(session: Session, planned: Planned) -> bool:
    """Enqueue the delivery (or add the task) one plan describes; False when it has nowhere to go."""
    rule, event, action, target = planned.rule, planned.event, planned.action, planned.target
    if target.problem:
        log.info("rule %s on event %s: %s not reached: %s", rule.id, event.uid, target.label, target.problem)
        return False
    if action.kind == ActionKind.TASK:
        assert target.user_id is not None
        occurred = as_utc(event.occurred_at)
        add_task(
            session,
            uid=_task_uid(event, rule, target.user_id),
            user_id=target.user_id,
            title=planned.message.subject,
            link=planned.message.link,
            due_on=(occurred + timedelta(days=action.due_days)).date(),
            rule_id=rule.id,
            event_id=event.id,
        )
        return True
    enqueue(
        session,
        channel=CHANNELS[ActionKind(action.kind)],
        target=target.address,
        message=planned.message,
        recipient=target.recipient,
        source="rule",
        event=event,
        rule_id=rule.id,
    )
    return True


def _enabled_rules(session: Session) -> dict[str, list[Rule]]:
    by_trigger: dict[str, list[Rule]] = defaultdict(list)
    for rule in session.scalars(select(Rule).where(Rule.enabled).order_by(Rule.id)):
        by_trigger[rule.trigger].append(rule)
    return by_trigger


def _claim(session: Session, limit: int) -> Sequence[Event]:
    """The oldest undispatched events; on PostgreSQL rows another worker holds are skipped."""
    statement = (
        select(Event)
        .where(Event.dispatched_at.is_(None))
        .order_by(Event.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return session.scalars(statement).all()


def dispatch_pending(session: Session, settings: Settings, now: datetime) -> int:
    """Turn undispatched events into deliveries and tasks; returns how many events it dispatched."""
    events = _claim(session, BATCH)
    if not events:
        return 0
    rules = _enabled_rules(session)
    planner = Planner(session, settings)
    for event in events:
        for rule in rules.get(event.kind, ()):
            # A rule acts on what happened while it was on, never on history from before.
            if rule.enabled_since is None or as_utc(event.occurred_at) < as_utc(rule.enabled_since):
                continue
            for planned in planner.plan(rule, event):
                carry_out(session, planned)
        event.dispatched_at = now
    session.flush()
    return len(events)


def recent_events(session: Session, trigger: str, since: datetime) -> Sequence[Event]:
    statement = (
        select(Event)
        .where(Event.kind == trigger, Event.occurred_at >= since)
        .order_by(Event.occurred_at.desc(), Event.id.desc())
        .limit(PREVIEW_EVENTS)
    )
    return session.scalars(statement).all()


def latest_event(session: Session, trigger: str) -> Event | None:
    """The newest stored event of a kind: the sample a rule page shows its recipients and message for."""
    return session.scalar(
        select(Event)
        .where(Event.kind == trigger)
        .order_by(Event.occurred_at.desc(), Event.id.desc())
        .limit(1)
    )


def preview(
    session: Session, actor: Actor, rule: Rule, settings: Settings, *, now: datetime, days: int = 30
) -> tuple[int, list[Planned]]:
    """What `rule` would have sent for the stored events of the last `days` days (nothing is written):
    how many events of its trigger there were, and the plans for those it matches."""
    require(actor, Permission.READ_PROGRAM)
    events = recent_events(session, rule.trigger, now - timedelta(days=days))
    planner = Planner(session, settings)
    plans: Iterable[Planned] = (p for event in events for p in planner.plan(rule, event))
    return len(events), list(plans)
