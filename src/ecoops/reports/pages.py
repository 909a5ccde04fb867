"""Reporting pages: report pack schedules, and the QBR pack of a partner as a page and a PDF, for staff
(/partners/{id}/qbr) and for the partner's own users in the portal (/portal/qbr)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor
from ecoops.config import Settings
from ecoops.partners.service import partner_choices
from ecoops.permissions import Permission
from ecoops.portal.service import require_partner_user
from ecoops.reports import packs
from ecoops.reports.document import Document, to_pdf
from ecoops.reports.models import Audience, Cadence
from ecoops.reports.qbr import qbr_pack, quarter_of
from ecoops.web.deps import app_settings, db, page_actor, page_permission
from ecoops.web.fields import Id, IsoDate
from ecoops.web.security import csrf_protect
from ecoops.web.templating import flash, render

router = APIRouter(dependencies=[Depends(csrf_protect)])
reader = page_permission(Permission.READ_METRICS)
editor = page_permission(Permission.MANAGE_METRIC_SETTINGS)


@router.get("/reports")
def reports_page(
    request: Request,
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    today = settings.today()
    schedules = packs.schedules(session, actor)
    return render(
        request,
        "reports/reports.html",
        schedules=schedules,
        names={s.id: s.name for s in schedules},
        sends=packs.sends(session, actor),
        audiences=list(Audience),
        cadences=list(Cadence),
        partners=partner_choices(session),
        next_periods={c.value: packs.last_complete(c, today) for c in Cadence},
        quarter=quarter_of(today),
    )


@router.post("/reports/schedules")
def create_schedule(
    request: Request,
    name: str = Form("", max_length=200),
    audience: str = Form(Audience.LEADERSHIP.value, max_length=20),
    cadence: str = Form(Cadence.MONTHLY.value, max_length=10),
    recipients: str = Form("", max_length=5000),
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
) -> Response:
    try:
        schedule = packs.create_schedule(
            session, actor, name=name, audience=audience, cadence=cadence, recipients=recipients
        )
        flash(request, f"Report pack {schedule.name!r} scheduled {schedule.cadence}.", "success")
    except InvalidInput as exc:
        flash(request, f"Nothing was changed: {exc}.", "error")
    return RedirectResponse("/reports", status_code=303)


@router.post("/reports/schedules/{schedule_id}/active")
def set_active(
    request: Request,
    schedule_id: Id,
    active: bool = Form(...),
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
) -> Response:
    schedule = packs.set_active(session, actor, schedule_id, active)
    flash(request, f"Report pack {schedule.name!r} {'resumed' if active else 'paused'}.", "success")
    return RedirectResponse("/reports", status_code=303)


def _preview(session: Session, actor: Actor, settings: Settings, schedule_id: int) -> tuple[str, Document]:
    """The schedule's name and the pack its next send would carry: the last complete period's."""
    schedule = packs.get_schedule(session, actor, schedule_id)
    due = packs.last_complete(schedule.cadence, settings.today())
    return schedule.name, packs.pack(session, actor, settings, schedule.audience, due.period)


@router.get("/reports/schedules/{schedule_id}/preview")
def preview_pack(
    request: Request,
    schedule_id: Id,
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    name, document = _preview(session, actor, settings, schedule_id)
    return render(
        request,
        "reports/preview.html",
        name=name,
        document=document,
        pdf=f"/reports/schedules/{schedule_id}/preview.pdf",
    )


@router.get("/reports/schedules/{schedule_id}/preview.pdf")
def preview_pack_pdf(
    schedule_id: Id,
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    _name, document = _preview(session, actor, settings, schedule_id)
    return _pdf(document, f"report-pack-{schedule_id}-preview.pdf")


def _pdf(document: Document, filename: str) -> Response:
    return Response(
        to_pdf(document),
        media_type="application/pdf",
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


def _qbr(session: Session, actor: Actor, settings: Settings, partner_id: int, day: date | None) -> Document:
    today = settings.today()
    return qbr_pack(session, actor, settings, partner_id, quarter_of(day or today), today)


@router.get("/partners/{partner_id}/qbr")
def partner_qbr(
    request: Request,
    partner_id: Id,
    quarter: IsoDate | None = Query(None, description="any day of the quarter (default: this one)"),
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    document = _qbr(session, actor, settings, partner_id, quarter)
    pdf = f"/partners/{partner_id}/qbr.pdf" + (f"?quarter={quarter.isoformat()}" if quarter else "")
    return render(
        request,
        "reports/qbr.html",
        document=document,
        pdf=pdf,
        quarter=quarter,
        back=f"/partners/{partner_id}/qbr",
    )


@router.get("/partners/{partner_id}/qbr.pdf")
def partner_qbr_pdf(
    partner_id: Id,
    quarter: IsoDate | None = Query(None),
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    return _pdf(_qbr(session, actor, settings, partner_id, quarter), f"qbr-{partner_id}.pdf")


@router.get("/portal/qbr")
def portal_qbr(
    request: Request,
    quarter: IsoDate | None = Query(None),
    actor: Actor = Depends(page_actor),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    if actor.is_internal:
        return RedirectResponse("/", status_code=303)
    require_partner_user(actor)
    assert actor.partner_id is not None
    document = _qbr(session, actor, settings, actor.partner_id, quarter)
    pdf = "/portal/qbr.pdf" + (f"?quarter={quarter.isoformat()}" if quarter else "")
    return render(
        request, "reports/qbr.html", document=document, pdf=pdf, quarter=quarter, back="/portal/qbr"
    )


@router.get("/portal/qbr.pdf")
def portal_qbr_pdf(
    quarter: IsoDate | None = Query(None),
    actor: Actor = Depends(page_actor),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    require_partner_user(actor)
    assert actor.partner_id is not None
    return _pdf(_qbr(session, actor, settings, actor.partner_id, quarter), "qbr.pdf")
