"""Report packs: the schedules (who gets which pack, weekly or monthly) and the pack of one period.

The worker's tick (`send_report_packs`) enqueues, after each week (Monday to Sunday) or month ends, one
e-mail per recipient with the pack as HTML and as a PDF attachment, through the delivery outbox. A
period is sent once: the schedule x period row is unique, so of two workers at the same moment one
stores it and enqueues, the other finds it taken and does nothing; each e-mail's uid
("report-pack:<schedule>:<period>:<address>") holds it too. A worker that was down sends the last
period when it comes back; older missed periods are not sent.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.errors import HeaderParseError
from email.headerregistry import Address

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.actors import SYSTEM, Actor
from ecoops.automation.deliveries import Channel, enqueue
from ecoops.automation.messages import Message
from ecoops.config import Settings
from ecoops.engines.metrics import Period
from ecoops.partners.programs import FieldError
from ecoops.permissions import NotFound, Permission, require
from ecoops.reports.document import Document, Figure, Section, money, share, to_html, to_pdf, to_text
from ecoops.reports.models import Audience, Cadence, ReportPackSend, ReportSchedule
from ecoops.roi import service as roi

MAX_RECIPIENTS = 50


@dataclass(frozen=True)
class PackPeriod:
    key: str
    period: Period


def last_complete(cadence: str, today: date) -> PackPeriod:
    """The last week (Monday to Sunday) or month that ended before `today`."""
    if cadence == Cadence.WEEKLY:
        start = today - timedelta(days=today.weekday() + 7)
        year, week, _ = start.isocalendar()
        return PackPeriod(f"{year}-W{week:02d}", Period(start, start + timedelta(days=6)))
    end = today.replace(day=1) - timedelta(days=1)
    return PackPeriod(f"{end:%Y-%m}", Period(end.replace(day=1), end))


def _addresses(text: str) -> list[str]:
    found: list[str] = []
    for part in text.replace(";", ",").replace("\n", ",").split(","):
        address = part.strip()
        if not address:
            continue
        try:
            Address(addr_spec=address)
        except (HeaderParseError, ValueError, IndexError):
            raise FieldError("recipients", f"{address!r} is not an e-mail address") from None
        if "@" not in address:
            raise FieldError("recipients", f"{address!r} is not an e-mail address")
        if address.lower() not in (a.lower() for a in found):
            found.append(address)
    if not found:
        raise FieldError("recipients", "name at least one e-mail address")
    if len(found) > MAX_RECIPIENTS:
        raise FieldError("recipients", f"at most {MAX_RECIPIENTS} addresses")
    return found


def create_schedule(
    session: Session, actor: Actor, *, name: str, audience: str, cadence: str, recipients: str
) -> ReportSchedule:
    """A new report pack schedule; FieldError names the field that is wrong."""
    require(actor, Permission.MANAGE_METRIC_SETTINGS)
    name = name.strip()
    if not name or len(name) > 120:
        raise FieldError("name", "give a name of 1 to 120 characters")
    if session.scalar(select(ReportSchedule.id).where(ReportSchedule.name == name)) is not None:
        raise FieldError("name", f"there already is a schedule named {name!r}")
    if audience not in tuple(Audience):
        raise FieldError("audience", f"must be one of {', '.join(Audience)}, not {audience!r}")
    if cadence not in tuple(Cadence):
        raise FieldError("cadence", f"must be one of {', '.join(Cadence)}, not {cadence!r}")
    schedule = ReportSchedule(
        name=name,
        audience=audience,
        cadence=cadence,
        recipients=", ".join(_addresses(recipients)),
        created_by=actor.label,
    )
    session.add(schedule)
    session.flush()
    audit.record(
        session,
        actor,
        "report_pack.scheduled",
        "report_schedule",
        schedule.id,
        name=name,
        audience=audience,
        cadence=cadence,
        recipients=schedule.recipients,
    )
    return schedule


def set_active(session: Session, actor: Actor, schedule_id: int, active: bool) -> ReportSchedule:
    require(actor, Permission.MANAGE_METRIC_SETTINGS)
    schedule = get_schedule(session, actor, schedule_id)
    schedule.is_active = active
    session.flush()
    audit.record(
        session,
        actor,
        "report_pack.paused" if not active else "report_pack.resumed",
        "report_schedule",
        schedule.id,
    )
    return schedule


def get_schedule(session: Session, actor: Actor, schedule_id: int) -> ReportSchedule:
    require(actor, Permission.READ_METRICS)
    schedule = session.get(ReportSchedule, schedule_id)
    if schedule is None:
        raise NotFound(f"no report schedule {schedule_id}")
    return schedule


def schedules(session: Session, actor: Actor) -> list[ReportSchedule]:
    require(actor, Permission.READ_METRICS)
    return list(session.scalars(select(ReportSchedule).order_by(ReportSchedule.name)))


def sends(session: Session, actor: Actor, limit: int = 50) -> list[ReportPackSend]:
    """The latest periods sent, newest first."""
    require(actor, Permission.READ_METRICS)
    return list(session.scalars(select(ReportPackSend).order_by(ReportPackSend.id.desc()).limit(limit)))


def pack(session: Session, actor: Actor, config: Settings, audience: str, period: Period) -> Document:
    """The pack of one period for an audience: ROI and efficiency for both, pipeline for leadership,
    costs by category for finance."""
    found = roi.roi(session, actor, config, period)
    c = config.currency
    span = f"from={period.start.isoformat()}&to={period.end.isoformat()}&as_of={period.end.isoformat()}"
    headline = Section(
        "Partner revenue and program ROI",
        [
            Figure(
                "Sourced revenue",
                money(found.sourced_revenue, c),
                f"/dashboards/figures/revenue/records?{span}&cohort=sourced",
            ),
            Figure(
                "Influenced revenue",
                money(found.influenced_revenue, c),
                f"/dashboards/figures/revenue/records?{span}&cohort=influenced",
            ),
            Figure(
                "Program cost",
                money(found.cost, c),
                f"/roi?from={period.start.isoformat()}&to={period.end.isoformat()}",
            ),
            Figure("ROI on sourced gross profit", share(found.roi_sourced)),
            Figure("ROI on sourced and influenced gross profit", share(found.roi_attached)),
            Figure(
                "Cost per sourced dollar",
                "not defined"
                if found.cost_per_sourced_dollar is None
                else f"{found.cost_per_sourced_dollar:,.4f}",
            ),
            Figure(
                "Revenue per partner manager",
                "not defined" if found.revenue_per_manager is None else money(found.revenue_per_manager, c),
            ),
            Figure("Attach rate (partner-attached share of open pipeline)", share(found.attach_rate)),
        ],
        note=f"Gross margin {found.margin:.0%}. Definitions: docs/metrics.md, 'Program ROI'.",
    )
    sections = [headline]
    if audience == Audience.LEADERSHIP:
        sections.append(
            Section(
                f"Open pipeline on {period.end.isoformat()}",
                [
                    Figure(cls, money(found.pipeline.get(cls, 0), c))
                    for cls in ("sourced", "influenced", "direct")
                ],
            )
        )
    else:
        sections.append(
            Section(
                "Program costs by category",
                [Figure(k, money(v, c)) for k, v in found.cost_by_category.items()],
            )
        )
    return Document(
        f"Partner program report ({audience})",
        f"{period.start.isoformat()} to {period.end.isoformat()}",
        sections,
    )


def send_report_packs(session: Session, settings: Settings, now: datetime) -> int:
    """Enqueue the packs of the periods that ended and were not sent; how many e-mails."""
    today = now.astimezone(settings.tz).date()
    enqueued = 0
    for schedule in session.scalars(
        select(ReportSchedule).where(ReportSchedule.is_active).order_by(ReportSchedule.id)
    ):
        due = last_complete(schedule.cadence, today)
        taken = select(ReportPackSend.id).where(
            ReportPackSend.schedule_id == schedule.id, ReportPackSend.period_key == due.key
        )
        if session.scalar(taken) is not None:
            continue
        addresses = schedule.recipients.split(", ")
        try:
            with session.begin_nested():
                session.add(
                    ReportPackSend(
                        schedule_id=schedule.id,
                        period_key=due.key,
                        starts_on=due.period.start,
                        ends_on=due.period.end,
                        recipients=len(addresses),
                        sent_at=now,
                    )
                )
                session.flush()
        except IntegrityError:
            continue  # another worker stored this period first: it enqueues the e-mails
        document = pack(session, SYSTEM, settings, schedule.audience, due.period)
        pdf = base64.b64encode(to_pdf(document)).decode("ascii")
        message = Message(
            subject=f"{schedule.name}: {document.subtitle}",
            text=to_text(document),
            html=to_html(document, settings.link_base),
            link=f"{settings.link_base.rstrip('/')}/roi?from={due.period.start}&to={due.period.end}",
            attachments=(
                {
                    "filename": f"report-pack-{schedule.id}-{due.key}.pdf",
                    "content_type": "application/pdf",
                    "data": pdf,
                },
            ),
        )
        for address in addresses:
            enqueue(
                session,
                channel=Channel.EMAIL,
                target=address,
                message=message,
                recipient=address,
                source="report_pack",
                source_ref=f"report-pack:{schedule.id}:{due.key}",
                uid=f"report-pack:{schedule.id}:{due.key}:{address.lower()}",
            )
            enqueued += 1
        audit.record(
            session,
            SYSTEM,
            "report_pack.sent",
            "report_schedule",
            schedule.id,
            period=due.key,
            recipients=len(addresses),
        )
    return enqueued
