"""Dashboard pages: each dashboard's charts and tables, CSV of every table, the records behind a figure,
and an opportunity explained. Chart data travels as a JSON block the static charts.js draws (CSP-safe)."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

import pyarrow as pa
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from ecoops.accounts.service import names_by_email, user_names
from ecoops.actors import Actor
from ecoops.attribution import influence
from ecoops.config import Settings
from ecoops.crm.models import Account
from ecoops.crm.service import by_crm_id
from ecoops.goals import plan
from ecoops.goals.service import METRIC_LABELS
from ecoops.metrics import service
from ecoops.metrics.export import display, table_csv
from ecoops.metrics.params import metrics_query
from ecoops.pagination import Page
from ecoops.permissions import NotFound, Permission, allowed
from ecoops.web.deps import app_settings, db, page_permission
from ecoops.web.fields import PageNumber
from ecoops.web.security import csrf_protect
from ecoops.web.templating import render

router = APIRouter(dependencies=[Depends(csrf_protect)])
reader = page_permission(Permission.READ_METRICS)
CLASSES = ("sourced", "influenced", "direct")
GOALS_DASHBOARD = "overview"  # the dashboard whose front shows plan vs actual


def _by(table: pa.Table, key: str) -> dict[Any, dict[str, Any]]:
    return {row[key]: row for row in table.to_pylist()}


def _series(label: str, values: list[Any]) -> dict[str, Any]:
    return {"label": label, "data": values}


def _bars(chart_id: str, title: str, labels: list[Any], *datasets: dict[str, Any]) -> dict[str, Any]:
    return {"id": chart_id, "title": title, "type": "bar", "labels": labels, "datasets": list(datasets)}


def _charts(figures: dict[str, pa.Table]) -> list[dict[str, Any]]:
    """The charts a dashboard draws, from the same tables it shows (null stays null: a gap, not a 0)."""
    charts: list[dict[str, Any]] = []
    if "revenue_by_month" in figures:
        months = figures["revenue_by_month"].to_pylist()
        revenue = [_series(c, [m[f"{c}_revenue"] for m in months]) for c in ("sourced", "influenced")]
        charts.append(
            _bars(
                "revenue_by_month",
                "Sourced and influenced revenue by month",
                [m["month"] for m in months],
                *revenue,
            )
        )
    if "pipeline" in figures:
        pipeline = _by(figures["pipeline"], "classification")
        values = [pipeline.get(c, {}).get("pipeline") for c in CLASSES]
        charts.append(_bars("pipeline", "Open pipeline by class", list(CLASSES), _series("pipeline", values)))
    if "overlays" in figures:
        overlays = _by(figures["overlays"], "classification")
        for measure, title in (
            ("win_rate", "Win rate"),
            ("average_deal_size", "Average deal size"),
            ("mean_days_to_close", "Sales cycle (mean days)"),
            ("pipeline_velocity", "Pipeline velocity (per day)"),
        ):
            values = [overlays.get(c, {}).get(measure) for c in CLASSES]
            charts.append(
                _bars(
                    f"overlay_{measure}", f"{title}: partner vs direct", list(CLASSES), _series(title, values)
                )
            )
    if "partners_per_stage" in figures:
        stages = figures["partners_per_stage"].to_pylist()
        counts = _series("partners", [s["partners"] for s in stages])
        charts.append(_bars("partners_per_stage", "Partners per stage", [s["stage"] for s in stages], counts))
    if "retention_curve" in figures:
        curve = figures["retention_curve"].to_pylist()
        line = _bars(
            "retention_curve",
            "Retention: share still signed, months after first signing",
            [c["months_after_signing"] for c in curve],
            _series("retained", [c["retention_rate"] for c in curve]),
        )
        charts.append(line | {"type": "line"})
    if "eql_funnel" in figures and figures["eql_funnel"].num_rows:
        funnel = figures["eql_funnel"].to_pylist()[0]
        counts = _series("count", [funnel["eqls"], funnel["sqls"], funnel["won_opportunities"]])
        charts.append(_bars("eql_funnel", "EQL → SQL → won", ["EQLs", "SQLs", "won"], counts))
    if "scorecard" in figures and figures["scorecard"].num_rows:
        top = figures["scorecard"].slice(0, 15).to_pylist()
        sourced = _series("sourced model", [r["sourced_revenue"] for r in top])
        linear = _series("linear model", [r["linear_revenue"] for r in top])
        charts.append(
            _bars("scorecard", "Credited revenue, top partners", [r["partner"] for r in top], sourced, linear)
        )
    return charts


def _page_of(table: pa.Table, page: int, per_page: int) -> Page[dict[str, Any]]:
    """One page of a figure's records: the whole table is computed (and cached) once, a page is a slice."""
    rows = table.slice((page - 1) * per_page, per_page).to_pylist()
    return Page(items=rows, total=table.num_rows, page=page, per_page=per_page)


def _query_string(request: Request, **changes: str) -> str:
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in changes and v != ""]
    params += [(k, v) for k, v in changes.items() if v]
    return urlencode(params)


@router.get("/dashboards")
def dashboards_home(actor: Actor = Depends(reader)) -> Response:
    return RedirectResponse("/dashboards/overview", status_code=303)


@router.get("/dashboards/{dashboard}")
def dashboard_page(
    request: Request,
    dashboard: str,
    table: str = Query("", max_length=60),  # one of the dashboard's detailed tables; empty: its front
    page: PageNumber = 1,  # long tables (a scorecard of a thousand partners) are shown a page at a time
    query: service.MetricsQuery = Depends(metrics_query),
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    board = service.DASHBOARDS.get(dashboard)
    if board is None:
        raise NotFound(f"no dashboard {dashboard!r}")
    if table and table not in board.details:
        raise NotFound(f"the {board.title} dashboard has no detailed table {table!r}")
    # The front draws the charts (from every figure) and shows the short tables; a tab shows one long table.
    report = service.report(session, actor, settings, query, [table] if table else board.figures)
    shown = [table] if table else [figure for figure in board.figures if figure not in board.details]
    # Plan vs actual on the overview's front: the goals of the scopes the filters name, on the as-of date.
    goals = None
    if dashboard == GOALS_DASHBOARD and not table:
        goals = plan.lines(session, actor, settings, plan.scope_keys(query.filters), query.as_of)
    return render(
        request,
        "metrics/dashboard.html",
        name=dashboard,
        board=board,
        detail=table,
        shown=shown,
        dashboards=service.DASHBOARDS,
        titles={n: f.title for n, f in service.FIGURES.items()},
        cohorts={n: f.cohort for n, f in service.FIGURES.items()},
        report=report,
        pages={figure: _page_of(report.figures[figure], page, settings.page_size) for figure in shown},
        charts=[] if table else _charts(report.figures),
        options=service.filter_options(session, actor),
        query=query,
        qs=_query_string(request, table="", page=""),  # the filters, for links to dashboards, tabs, figures
        show=display,
        goals=goals,
        goal_metrics=METRIC_LABELS,
    )


@router.get("/dashboards/figures/{figure}.csv")
def figure_csv(
    figure: str,
    query: service.MetricsQuery = Depends(metrics_query),
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    if figure not in service.FIGURES:
        raise NotFound(f"no figure {figure!r}")
    table = service.report(session, actor, settings, query, [figure]).figures[figure]
    return _csv(table, f"{figure}-{query.as_of}.csv")


def _csv(table: pa.Table, filename: str) -> Response:
    return Response(
        table_csv(table),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/dashboards/figures/{figure}/records")
def figure_records_page(
    request: Request,
    figure: str,
    cohort: str = Query("", max_length=200),
    page: PageNumber = 1,
    query: service.MetricsQuery = Depends(metrics_query),
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    table = service.records(session, actor, settings, query, figure, cohort)
    return render(
        request,
        "metrics/records.html",
        figure=figure,
        title=service.FIGURES[figure].title,
        cohort=cohort,
        page=_page_of(table, page, settings.page_size),
        columns=table.column_names,
        query=query,
        qs=_query_string(request, page=""),
        as_of_qs=urlencode({"as_of": query.as_of.isoformat()}),
        show=display,
    )


@router.get("/dashboards/figures/{figure}/records.csv")
def figure_records_csv(
    figure: str,
    cohort: str = Query("", max_length=200),
    query: service.MetricsQuery = Depends(metrics_query),
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    table = service.records(session, actor, settings, query, figure, cohort)
    return _csv(table, f"{figure}-records-{query.as_of}.csv")


@router.get("/dashboards/opportunities/{crm_id}")
def opportunity_page(
    request: Request,
    crm_id: str,
    as_of: date | None = Query(None),
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> Response:
    on = as_of or settings.today()
    explanation = service.explain(session, actor, settings, on, crm_id)
    touches = explanation.touches
    noted_by = {t["evidence_ref"] for t in touches if t["evidence_type"] == "user"}  # ("user", "7"): user 7
    return render(
        request,
        "metrics/opportunity.html",
        crm_id=crm_id,
        as_of=on,
        explanation=explanation,
        accounts=by_crm_id(session, actor, Account, [explanation.opportunity["account_crm_id"]]),
        people=user_names(session, {int(ref) for ref in noted_by if ref.isdigit()}),
        who=names_by_email(session, {t["recorded_by"] for t in touches}),
        show=display,
        # What people logged of the partners' work on it: the evidence of its influence-log touches.
        influence=influence.search_logs(session, actor, opportunity_crm_id=crm_id, per_page=50)
        if allowed(actor, Permission.READ_CRM)
        else None,
    )
