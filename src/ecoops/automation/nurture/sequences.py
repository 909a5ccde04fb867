"""Editing nurture sequences and their steps, each change checked, audited, and refused with a reason."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from ecoops import audit
from ecoops.accounts.service import InvalidInput, checked_contact_role
from ecoops.actors import Actor
from ecoops.audit import utcnow
from ecoops.automation.nurture import templates
from ecoops.automation.nurture.models import (
    EnrolmentStatus,
    NurtureEnrolment,
    NurtureSequence,
    NurtureStep,
    StepChannel,
)
from ecoops.partners.models import Partner, Stage
from ecoops.permissions import NotFound, Permission, require

MAX_DELAY_DAYS = 3650
CHANNEL_LABELS: dict[StepChannel, str] = {
    StepChannel.PARTNER_EMAIL: "e-mail to the partner's contacts",
    StepChannel.MANAGER_EMAIL: "e-mail to the partner manager",
    StepChannel.MANAGER_SLACK: "Slack message to the partner manager (or to a channel, mentioning them)",
    StepChannel.MANAGER_TASK: "task for the partner manager",
}


@dataclass(frozen=True)
class StepInput:
    """A step as typed into the editor; `delay_days` stays text so a bad number is reported, not a 422."""

    delay_days: str
    channel: str
    subject: str
    body: str
    slack_channel: str = ""
    content_url: str = ""
    content_title: str = ""
    contact_role: str = ""  # partner e-mail steps: only the contacts of this role; "" = all


def list_sequences(session: Session, actor: Actor) -> list[NurtureSequence]:
    require(actor, Permission.MANAGE_AUTOMATION)
    statement = select(NurtureSequence).options(selectinload(NurtureSequence.steps))
    return list(session.scalars(statement.order_by(NurtureSequence.stage, func.lower(NurtureSequence.name))))


def get_sequence(session: Session, actor: Actor, sequence_id: int) -> NurtureSequence:
    require(actor, Permission.MANAGE_AUTOMATION)
    sequence = session.get(NurtureSequence, sequence_id)
    if sequence is None:
        raise NotFound(f"no nurture sequence {sequence_id}")
    return sequence


def get_step(session: Session, actor: Actor, step_id: int) -> NurtureStep:
    require(actor, Permission.MANAGE_AUTOMATION)
    step = session.get(NurtureStep, step_id)
    if step is None:
        raise NotFound(f"no nurture step {step_id}")
    return step


def _checked_name(session: Session, name: str, sequence_id: int | None) -> str:
    name = name.strip()
    if not name or len(name) > 120:
        raise InvalidInput("a sequence needs a name of 1 to 120 characters")
    clash = select(NurtureSequence.id).where(func.lower(NurtureSequence.name) == name.lower())
    if sequence_id is not None:
        clash = clash.where(NurtureSequence.id != sequence_id)
    if session.scalar(clash) is not None:
        raise InvalidInput(f"a sequence named {name!r} already exists")
    return name


def _checked_stage(stage: str) -> str:
    if stage not in Stage.__members__.values():
        raise InvalidInput(f"unknown stage {stage!r}; one of {', '.join(Stage)}")
    return stage


def create_sequence(
    session: Session, actor: Actor, *, name: str, stage: str, description: str = "", enabled: bool = False
) -> NurtureSequence:
    require(actor, Permission.MANAGE_AUTOMATION)
    sequence = NurtureSequence(
        name=_checked_name(session, name, None),
        stage=_checked_stage(stage),
        description=description.strip(),
        is_enabled=enabled,
        enabled_at=utcnow() if enabled else None,
        created_by=actor.label,
    )
    session.add(sequence)
    session.flush()
    audit.record(
        session, actor, "nurture.sequence_created", "nurture_sequence", sequence.id, name=name, stage=stage
    )
    return sequence


def update_sequence(
    session: Session, actor: Actor, sequence: NurtureSequence, *, name: str, stage: str, description: str
) -> NurtureSequence:
    """Rename or re-describe; a new stage stops the old stage's enrolments at the next tick."""
    require(actor, Permission.MANAGE_AUTOMATION)
    sequence.name = _checked_name(session, name, sequence.id)
    previous, sequence.stage = sequence.stage, _checked_stage(stage)
    sequence.description = description.strip()
    session.flush()
    audit.record(
        session,
        actor,
        "nurture.sequence_updated",
        "nurture_sequence",
        sequence.id,
        name=sequence.name,
        stage=sequence.stage,
        previous_stage=previous,
    )
    return sequence


def set_enabled(session: Session, actor: Actor, sequence: NurtureSequence, enabled: bool) -> NurtureSequence:
    """Switch a sequence on (from now: nothing due while it was off is sent later) or off (a pause)."""
    require(actor, Permission.MANAGE_AUTOMATION)
    if enabled and not sequence.steps:
        raise InvalidInput("add a step before switching the sequence on")
    if sequence.is_enabled != enabled:
        sequence.is_enabled = enabled
        if enabled:
            sequence.enabled_at = utcnow()
        session.flush()
        action = "nurture.sequence_enabled" if enabled else "nurture.sequence_disabled"
        audit.record(session, actor, action, "nurture_sequence", sequence.id)
    return sequence


def _look_again(session: Session, sequence_id: int) -> None:
    """Steps changed: the sequence's enrolments, finished ones of partners still in their stay too, are
    due for a look at the next tick."""
    still_there = select(Partner.id).where(
        Partner.id == NurtureEnrolment.partner_id,
        Partner.stage == NurtureEnrolment.stage,
        Partner.stage_since == NurtureEnrolment.entered_on,
    )
    session.execute(
        update(NurtureEnrolment)
        .where(
            NurtureEnrolment.sequence_id == sequence_id,
            or_(
                NurtureEnrolment.status == EnrolmentStatus.ACTIVE,
                and_(NurtureEnrolment.status == EnrolmentStatus.COMPLETED, exists(still_there)),
            ),
        )
        .values(
            status=EnrolmentStatus.ACTIVE.value,
            next_due_on=NurtureEnrolment.entered_on,
            ended_at=None,
            end_reason="",
        )
        .execution_options(synchronize_session="fetch")
    )


def _checked_step(data: StepInput) -> dict[str, object]:
    """The step's columns from the form, or InvalidInput naming the first field that is wrong."""
    text = data.delay_days.strip()
    if not text.lstrip("-").isdigit():
        raise InvalidInput(f"the delay must be a whole number of days, not {text!r}")
    delay = int(text)
    if delay < 0:
        raise InvalidInput("the delay cannot be negative: a step is due on or after the day the stage began")
    if delay > MAX_DELAY_DAYS:
        raise InvalidInput(f"the delay can be at most {MAX_DELAY_DAYS} days")
    if data.channel not in StepChannel.__members__.values():
        raise InvalidInput(f"unknown channel {data.channel!r}; one of {', '.join(StepChannel)}")
    slack_channel = data.slack_channel.strip()
    subject, body = data.subject.strip(), data.body.strip()
    if not subject or len(subject) > 300:
        raise InvalidInput("the subject needs 1 to 300 characters")
    if not body:
        raise InvalidInput("the body cannot be empty")
    templates.check(subject, "subject")
    templates.check(body, "body")
    url = data.content_url.strip()
    if url and (urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc or len(url) > 500):
        raise InvalidInput(
            f"the content link must be an http(s) address of at most 500 characters, not {url!r}"
        )
    if len(data.content_title.strip()) > 120:
        raise InvalidInput("the content title can be at most 120 characters")
    return {
        "delay_days": delay,
        "channel": data.channel,
        "slack_channel": slack_channel if data.channel == StepChannel.MANAGER_SLACK else "",
        "subject": subject,
        "body": body,
        "content_url": url,
        "content_title": data.content_title.strip(),
        "contact_role": checked_contact_role(data.contact_role)
        if data.channel == StepChannel.PARTNER_EMAIL
        else "",
    }


def add_step(session: Session, actor: Actor, sequence: NurtureSequence, data: StepInput) -> NurtureStep:
    """Add a step; steps are kept in ascending order of their delay, whatever order they are added in."""
    require(actor, Permission.MANAGE_AUTOMATION)
    step = NurtureStep(sequence_id=sequence.id, **_checked_step(data))
    session.add(step)
    session.flush()
    _look_again(session, sequence.id)
    session.expire(sequence, ["steps"])
    audit.record(
        session,
        actor,
        "nurture.step_added",
        "nurture_step",
        step.id,
        sequence_id=sequence.id,
        delay_days=step.delay_days,
        channel=step.channel,
    )
    return step


def update_step(session: Session, actor: Actor, step: NurtureStep, data: StepInput) -> NurtureStep:
    require(actor, Permission.MANAGE_AUTOMATION)
    for column, value in _checked_step(data).items():
        setattr(step, column, value)
    session.flush()
    _look_again(session, step.sequence_id)
    session.expire(step.sequence, ["steps"])
    audit.record(
        session,
        actor,
        "nurture.step_updated",
        "nurture_step",
        step.id,
        sequence_id=step.sequence_id,
        delay_days=step.delay_days,
        channel=step.channel,
    )
    return step


def delete_step(session: Session, actor: Actor, step: NurtureStep) -> None:
    """Remove a step; what it already sent stays in each partner's history."""
    require(actor, Permission.MANAGE_AUTOMATION)
    sequence = step.sequence
    if sequence.is_enabled and len(sequence.steps) == 1:
        raise InvalidInput("a switched-on sequence keeps at least one step; switch it off first")
    session.delete(step)
    session.flush()
    _look_again(session, sequence.id)
    session.expire(sequence, ["steps"])
    audit.record(session, actor, "nurture.step_deleted", "nurture_step", step.id, sequence_id=sequence.id)
