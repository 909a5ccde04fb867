"""The ROI dashboard: the program's costs against the gross profit it sourced and influenced over a
period, a chart by month, links to the records behind each figure, and the forms that enter costs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from ecoops.actors import Actor
from ecoops.config import Settings
from ecoops.engines.metrics import Period
from ecoops.partners.programs import FieldError
from ecoops.permissions import Permission
from ecoops.roi import service
from ecoops.roi.models import CostCategory
from ecoops.web.changes import change_and_return
from ecoops.web.deps import app_settings, db, page_permission
from ecoops.web.fields import Id, IsoDate
from ecoops.web.security import csrf_protect
from ecoops.web.templating import render

router = APIRouter(dependencies=[Depends(csrf_protect)])
reader = page_permission(Permission.READ_METRICS)
editor = page_permission(Permission.MANAGE_METRIC_SETTINGS)


def default_period(today: date) -> Period:
    """The calendar year to date."""
    return Period(date(today.year, 1, 1), today)


def _chart(found: service.Roi) -> dict[str, Any]:
    def series(label: str, values: list[Decimal]) -> dict[str, Any]:
        return {"label": label, "data": [float(v) for v in values]}

    return {
        "id": "roi_by_month",
        "title": "Program cost against partner gross profit, by month",
        "type": "bar",
        "labels": [m.month for m in found.months],
        "datasets": [
            series("Cost", [m.cost for m in found.months]),
            series("Sourced gross profit", [m.sourced_profit for m in found.months]),
            series("Influenced gross profit", [m.influenced_profit for m in found.months]),
        ],
    }


def _back(start: date, end: date) -> str:
    return f"/roi?{urlencode({'from': start.isoformat(), 'to': end.isoformat()})}"


@router.get("/roi")
def roi_dashboard(
    request: Request,
    start: IsoDate | None = Query(None, alias="from"),
    end: IsoDate | None = Query(None, alias="to"),
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    period = default_period(settings.today())
    period = Period(start or period.start, end or period.end)
    error = ""
    if period.end < period.start:
        error = (
            f"to: the period ends ({period.end}) before it starts ({period.start}); showing the year to date"
        )
        period = default_period(settings.today())
    found = service.roi(session, actor, settings, period)
    span = {"from": period.start.isoformat(), "to": period.end.isoformat(), "as_of": period.end.isoformat()}
    return render(
        request,
        "roi/dashboard.html",
        found=found,
        error=error,
        costs=service.costs(session, actor, period),
        categories=list(CostCategory),
        chart=_chart(found),
        revenue_qs=urlencode(span),
        pipeline_qs=urlencode({"as_of": period.end.isoformat()}),
        currency=settings.currency,
        this_month=settings.today().replace(day=1),
    )


@router.post("/roi/costs")
def add_cost(
    request: Request,
    month: str = Form(..., max_length=7, description="YYYY-MM"),
    category: str = Form(..., max_length=20),
    amount: str = Form(..., max_length=30),
    note: str = Form("", max_length=2000),
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    def work() -> str:
        spent_on = _month(month)
        cost = service.add_cost(
            session, actor, spent_on=spent_on, category=category, amount=amount, note=note
        )
        return f"Cost recorded: {cost.category} {cost.amount:,.2f} {settings.currency} in {spent_on:%Y-%m}."

    period = default_period(settings.today())
    return change_and_return(request, work, _back(period.start, period.end))


def _month(text: str) -> date:
    try:
        return date.fromisoformat(f"{text.strip()}-01")
    except ValueError:
        raise FieldError("month", f"a month as YYYY-MM, not {text!r}") from None


@router.post("/roi/costs/{cost_id}/delete")
def delete_cost(
    request: Request,
    cost_id: Id,
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    def work() -> str:
        cost = service.delete_cost(session, actor, cost_id)
        return f"Cost of {cost.spent_on:%Y-%m} ({cost.category} {cost.amount:,.2f}) deleted."

    period = default_period(settings.today())
    return change_and_return(request, work, _back(period.start, period.end))


@router.post("/roi/ledger")
def take_from_ledger(
    request: Request,
    month: str = Form(..., max_length=7),
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    def work() -> str:
        day = _month(month)
        found = service.take_from_ledger(session, actor, day)
        amounts = ", ".join(f"{c.value} {a:,.2f}" for c, a in found.items())
        return f"Costs of {day:%Y-%m} taken from the commission ledger: {amounts} {settings.currency}."

    period = default_period(settings.today())
    return change_and_return(request, work, _back(period.start, period.end))


@router.post("/roi/margin")
def set_margin(
    request: Request,
    gross_margin: str = Form(..., max_length=12),
    actor: Actor = Depends(editor),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    def work() -> str:
        margin = service.set_gross_margin(session, actor, gross_margin)
        return f"Gross margin set to {margin:.2%}."

    period = default_period(settings.today())
    return change_and_return(request, work, _back(period.start, period.end))
