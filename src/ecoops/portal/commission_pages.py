"""Portal pages for partner users: their own commission statements, each line explained, as CSV and PDF."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from ecoops.actors import Actor
from ecoops.commissions import statement_pdf, statements
from ecoops.commissions.pages import PERIOD, csv_download, pdf_download
from ecoops.commissions.plans import money
from ecoops.config import Settings
from ecoops.portal.deps import partner_user
from ecoops.web.deps import app_settings, db
from ecoops.web.fields import PageNumber
from ecoops.web.security import csrf_protect
from ecoops.web.templating import render

router = APIRouter(dependencies=[Depends(csrf_protect)])


def _own(actor: Actor) -> int:
    assert actor.partner_id is not None  # partner_user() checked it
    return actor.partner_id


@router.get("/portal/commissions")
def commissions(
    request: Request,
    page: PageNumber = 1,
    actor: Actor = Depends(partner_user),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    found = statements.summaries(session, actor, page=page, per_page=settings.page_size)
    return render(
        request,
        "portal/commissions.html",
        page=found,
        money=money,
        currency=settings.currency,
        link="/portal/commissions/",
    )


@router.get("/portal/commissions/{period}.csv")
def statement_csv(
    period: str = Path(..., pattern=PERIOD),
    actor: Actor = Depends(partner_user),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    found = statements.statement(session, actor, _own(actor), period, settings.currency)
    return csv_download(statements.statement_csv(found), f"commission-statement-{period}.csv")


@router.get("/portal/commissions/{period}.pdf")
def statement_pdf_download(
    period: str = Path(..., pattern=PERIOD),
    actor: Actor = Depends(partner_user),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    found = statements.statement(session, actor, _own(actor), period, settings.currency)
    return pdf_download(statement_pdf.render_pdf(found), f"commission-statement-{period}.pdf")


@router.get("/portal/commissions/{period}")
def statement_page(
    request: Request,
    period: str = Path(..., pattern=PERIOD),
    actor: Actor = Depends(partner_user),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    found = statements.statement(session, actor, _own(actor), period, settings.currency)
    return render(
        request,
        "commissions/statement.html",
        statement=found,
        money=money,
        csv_link=f"/portal/commissions/{period}.csv",
        pdf_link=f"/portal/commissions/{period}.pdf",
        back="/portal/commissions",
        finance=False,
    )
