"""The nurture tick: stop enrolments whose partner moved on, enrol partners, and send each due step once.

Days are workspace dates (ECOOPS_TIMEZONE). A step is due on `entered_on + delay_days`. It is sent
only if that day is on or after the later of: the enrolment's `sends_from` (the day the partner's
move into the stage was recorded, or the day the sequence was switched on), the day the sequence was
last switched on, and the day the step was added. Earlier steps are recorded as skipped, never
back-filled: a move typed in with a back date, or a sequence switched on for partners already in
the stage, does not flood anyone with old messages. A worker that was down catches up on what fell
due meanwhile, since the boundary is when things were recorded, not when the worker saw them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from jinja2 import TemplateError
from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from ecoops import audit
from ecoops.accounts.models import PartnerUser, User
from ecoops.actors import SYSTEM
from ecoops.automation.deliveries import Channel, enqueue
from ecoops.automation.messages import Button, Message
from ecoops.automation.nurture import templates
from ecoops.automation.nurture.models import (
    EnrolmentStatus,
    NurtureEnrolment,
    NurtureSend,
    NurtureSequence,
    NurtureStep,
    SendStatus,
    StepChannel,
)
from ecoops.automation.tasks import add_task
from ecoops.config import Settings
from ecoops.partners.models import Partner, PartnerStageChange
from ecoops.web.labels import label


def local_date(moment: datetime, tz: ZoneInfo) -> date:
    """The workspace date of a stored moment (SQLite hands datetimes back naive; they are UTC)."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(tz).date()


def run_nurture(session: Session, settings: Settings, now: datetime) -> int:
    """One tick: how many enrolments were stopped or started and steps handled."""
    today = local_date(now, settings.tz)
    return (
        stop_departed(session, now) + enrol(session, settings, now) + send_due(session, settings, now, today)
    )


def stop_departed(session: Session, now: datetime) -> int:
    """End the active enrolments whose partner left the stage (or whose sequence moved to another)."""
    rows = session.execute(
        select(NurtureEnrolment, Partner, NurtureSequence)
        .join(Partner, Partner.id == NurtureEnrolment.partner_id)
        .join(NurtureSequence, NurtureSequence.id == NurtureEnrolment.sequence_id)
        .where(
            NurtureEnrolment.status == EnrolmentStatus.ACTIVE,
            or_(
                Partner.stage != NurtureEnrolment.stage,
                Partner.stage_since != NurtureEnrolment.entered_on,
                NurtureSequence.stage != NurtureEnrolment.stage,
            ),
        )
    ).all()
    for enrolment, partner, sequence in rows:
        if partner.stage != enrolment.stage or partner.stage_since != enrolment.entered_on:
            reason = f"moved to {partner.stage} on {partner.stage_since.isoformat()}"
        else:
            reason = f"the sequence now belongs to the {sequence.stage} stage"
        _end(enrolment, EnrolmentStatus.STOPPED, reason, now)
        audit.record(
            session, SYSTEM, "nurture.stopped", "partner", partner.id, sequence_id=sequence.id, reason=reason
        )
    session.flush()
    return len(rows)


def _end(enrolment: NurtureEnrolment, status: EnrolmentStatus, reason: str, now: datetime) -> None:
    enrolment.status, enrolment.ended_at, enrolment.end_reason = status.value, now, reason


def enrol(session: Session, settings: Settings, now: datetime) -> int:
    """Enrol every partner in an enabled sequence's stage that has no enrolment for its current stay."""
    today = local_date(now, settings.tz)
    count = 0
    for sequence in session.scalars(select(NurtureSequence).where(NurtureSequence.is_enabled)):
        enrolled = exists().where(
            NurtureEnrolment.sequence_id == sequence.id,
            NurtureEnrolment.partner_id == Partner.id,
            NurtureEnrolment.entered_on == Partner.stage_since,
        )
        partners = session.scalars(
            select(Partner).where(Partner.stage == sequence.stage, ~enrolled).order_by(Partner.id)
        ).all()
        recorded = _entries_recorded_on(session, sequence.stage, settings.tz) if partners else {}
        for partner in partners:
            starts = [partner.stage_since, recorded.get(partner.id, partner.stage_since)]
            if sequence.enabled_at is not None:
                starts.append(local_date(sequence.enabled_at, settings.tz))
            # A stamp from a clock ahead of the worker's counts as today, not as a day still to come.
            sends_from = min(max(starts), today)
            session.add(
                NurtureEnrolment(
                    sequence_id=sequence.id,
                    partner_id=partner.id,
                    stage=sequence.stage,
                    entered_on=partner.stage_since,
                    sends_from=sends_from,
                    enrolled_at=now,
                    status=EnrolmentStatus.ACTIVE.value,
                    next_due_on=partner.stage_since,
                )
            )
            audit.record(
                session,
                SYSTEM,
                "nurture.enrolled",
                "partner",
                partner.id,
                sequence_id=sequence.id,
                entered_on=partner.stage_since.isoformat(),
                sends_from=sends_from.isoformat(),
            )
            count += 1
    session.flush()
    return count


def _entries_recorded_on(session: Session, stage: str, tz: ZoneInfo) -> dict[int, date]:
    """Partner id → the day its move into its current stay in `stage` was recorded (not its date)."""
    rows = session.execute(
        select(PartnerStageChange.partner_id, func.max(PartnerStageChange.recorded_at))
        .join(Partner, Partner.id == PartnerStageChange.partner_id)
        .where(
            Partner.stage == stage,
            PartnerStageChange.to_stage == Partner.stage,
            PartnerStageChange.changed_on == Partner.stage_since,
        )
        .group_by(PartnerStageChange.partner_id)
    )
    return {partner_id: local_date(recorded, tz) for partner_id, recorded in rows}


def send_due(session: Session, settings: Settings, now: datetime, today: date) -> int:
    """Send or skip each step that is due and not handled yet; complete enrolments with nothing left."""
    enrolments = session.scalars(
        select(NurtureEnrolment)
        .join(NurtureSequence, NurtureSequence.id == NurtureEnrolment.sequence_id)
        .where(
            NurtureEnrolment.status == EnrolmentStatus.ACTIVE,
            NurtureEnrolment.next_due_on <= today,
            NurtureSequence.is_enabled,
        )
        .options(selectinload(NurtureEnrolment.sends), selectinload(NurtureEnrolment.sequence))
        .order_by(NurtureEnrolment.id)
    ).all()
    handled = 0
    for enrolment in enrolments:
        done = {send.step_id for send in enrolment.sends}
        ahead = []
        for step in enrolment.sequence.steps:
            due = enrolment.entered_on + timedelta(days=step.delay_days)
            if step.id in done:
                continue
            if due > today:
                ahead.append(due)
                continue
            enrolment.sends.append(_handle(session, settings, enrolment, step, due, today))
            handled += 1
        enrolment.next_due_on = min(ahead, default=None)
        if not ahead:
            _end(enrolment, EnrolmentStatus.COMPLETED, "every step sent or skipped", now)
    session.flush()
    return handled


def _handle(
    session: Session,
    settings: Settings,
    enrolment: NurtureEnrolment,
    step: NurtureStep,
    due: date,
    today: date,
) -> NurtureSend:
    sequence = enrolment.sequence
    starts = [enrolment.sends_from, local_date(step.created_at, settings.tz)]
    if sequence.enabled_at is not None:
        starts.append(local_date(sequence.enabled_at, settings.tz))
    boundary = min(max(starts), today)
    send = NurtureSend(step_id=step.id, subject=step.subject, due_on=due, status=SendStatus.SKIPPED.value)
    if due < boundary:
        send.reason = f"due {due.isoformat()}, before {boundary.isoformat()}: not back-filled"
        return send
    partner = session.get(Partner, enrolment.partner_id)
    assert partner is not None  # the enrolment is deleted with its partner
    try:
        send.subject, send.messages, send.reason = _deliver(session, settings, enrolment, partner, step, due)
    except TemplateError as exc:  # checked when saved; kept from stopping every other partner's tick
        send.reason = f"the template failed: {exc}"
        return send
    if send.messages:
        send.status = SendStatus.SENT.value
    return send


def _values(settings: Settings, partner: Partner, manager: User | None, step: NurtureStep) -> dict[str, str]:
    base = settings.link_base.rstrip("/")
    return {
        "partner_name": partner.name,
        "stage": partner.stage,
        "stage_since": partner.stage_since.isoformat(),
        "day": str(step.delay_days),
        "recipient_name": manager.name if manager else "",
        "manager_name": manager.name if manager else "",
        "manager_email": manager.email if manager else "",
        "content_link": step.content_url,
        "partner_page": f"{base}/partners/{partner.id}",
        "portal_link": f"{base}/portal",
    }


def _message(step: NurtureStep, values: dict[str, str], *, link: str, mention: str = "") -> Message:
    """The step's message; the content link is a button (each channel renders it: an e-mail as a link)."""
    subject, body = templates.render(step.subject, values), templates.render(step.body, values)
    title = step.content_title or "Read more"
    buttons = (
        (Button(title, "nurture.content", str(step.id), url=step.content_url),) if step.content_url else ()
    )
    return Message(
        subject=subject,
        text=body,
        html=templates.as_html(
            body, step.content_url or link, title if step.content_url else "Open in ecoops"
        ),
        link=link,
        buttons=buttons,
        mention=mention,
    )


def _deliver(
    session: Session,
    settings: Settings,
    enrolment: NurtureEnrolment,
    partner: Partner,
    step: NurtureStep,
    due: date,
) -> tuple[str, int, str]:
    """Enqueue the step's messages: (rendered subject, how many, what happened)."""
    manager = session.get(User, partner.owner_id) if partner.owner_id else None
    if manager is not None and not manager.is_active:
        manager = None
    values = _values(settings, partner, manager, step)
    ref = f"nurture:enrolment:{enrolment.id}:step:{step.id}"  # with the target, the delivery's stable uid

    def send(channel: Channel, target: str, recipient: str, message: Message) -> None:
        enqueue(
            session,
            channel=channel,
            target=target,
            message=message,
            recipient=recipient,
            source="nurture",
            source_ref=ref,
            partner_id=partner.id,
        )

    if step.channel == StepChannel.PARTNER_EMAIL:
        contacts_of = select(PartnerUser).where(PartnerUser.partner_id == partner.id, PartnerUser.is_active)
        if step.contact_role:
            contacts_of = contacts_of.where(PartnerUser.contact_role == step.contact_role)
        contacts = session.scalars(contacts_of.order_by(PartnerUser.id)).all()
        subject = templates.render(step.subject, values)
        for contact in contacts:
            message = _message(step, values | {"recipient_name": contact.name}, link=values["portal_link"])
            send(Channel.EMAIL, contact.email, f"partner_user:{contact.id}", message)
        if not contacts:
            whom = f"{label(step.contact_role)} contact" if step.contact_role else "partner contact"
            return subject, 0, f"no active {whom} to e-mail"
        return subject, len(contacts), f"e-mailed {len(contacts)} partner contact(s)"
    if step.channel == StepChannel.MANAGER_SLACK:
        mention = (manager.slack_user_id or manager.email) if manager else ""
        message = _message(step, values, link=values["partner_page"], mention=mention)
        # A channel of the step's, mentioning the manager; or else straight to the manager's Slack user.
        target = step.slack_channel or (manager.slack_user_id if manager else "")
        if not target:
            return (
                message.subject,
                0,
                "the partner manager has no Slack user id and the step names no channel",
            )
        recipient = (
            f"channel:{step.slack_channel}" if step.slack_channel else f"user:{manager.id if manager else ''}"
        )
        send(Channel.SLACK, target, recipient, message)
        return message.subject, 1, f"posted to {target}"
    message = _message(step, values, link=values["partner_page"])
    if manager is None:
        return message.subject, 0, "the partner has no active partner manager"
    if step.channel == StepChannel.MANAGER_TASK:
        add_task(
            session,
            uid=ref,
            user_id=manager.id,
            title=message.subject,
            link=values["partner_page"],
            due_on=due,
        )
        return message.subject, 1, f"task for {manager.name}"
    send(Channel.EMAIL, manager.email, f"user:{manager.id}", message)
    return message.subject, 1, f"e-mailed {manager.name}"
