"""REST routes under /api/v1/metrics: dashboard figures, records behind a figure, an opportunity explained."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from ecoops.actors import Actor
from ecoops.config import Settings
from ecoops.metrics import service
from ecoops.metrics.export import rows
from ecoops.metrics.params import metrics_query
from ecoops.metrics.schemas import ExplanationOut, FiguresOut, RecordsOut, RulesOut
from ecoops.permissions import Permission
from ecoops.web.deps import api_permission, app_settings, db
from ecoops.web.fields import IsoDate

router = APIRouter(prefix="/metrics", tags=["metrics"])
reader = api_permission(Permission.READ_METRICS)


def _dashboard(
    name: str, session: Session, actor: Actor, settings: Settings, query: service.MetricsQuery
) -> FiguresOut:
    report = service.report(session, actor, settings, query, service.DASHBOARDS[name].figures)
    return FiguresOut(
        dashboard=name,
        as_of=query.as_of,
        period_start=query.period.start,
        period_end=query.period.end,
        rules=RulesOut.of(report.settings),
        skipped_opportunities=report.skipped_opportunities,
        figures={figure: rows(table) for figure, table in report.figures.items()},
    )


def _dashboard_route(name: str, board: service.Dashboard) -> Callable[..., FiguresOut]:
    def route(
        query: service.MetricsQuery = Depends(metrics_query),
        actor: Actor = Depends(reader),
        session: Session = Depends(db),
        settings: Settings = Depends(app_settings),
    ) -> FiguresOut:
        return _dashboard(name, session, actor, settings, query)

    route.__doc__ = f"{board.title}: {', '.join(board.figures)} (null is 'no data', never 0)."
    return route


# One route per dashboard, with the figures the web page of the same name shows.
for _name, _board in service.DASHBOARDS.items():
    router.add_api_route(
        f"/{_name}",
        _dashboard_route(_name, _board),
        methods=["GET"],
        response_model=FiguresOut,
        name=f"metrics_{_name.replace('-', '_')}",
        summary=_board.title,
    )


@router.get("/figures/{figure}/records", response_model=RecordsOut)
def figure_records(
    figure: str,
    cohort: str = Query("", max_length=200, description="only this cohort, e.g. a class or a partner id"),
    query: service.MetricsQuery = Depends(metrics_query),
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> RecordsOut:
    """The records behind one figure (every figure opens to its records)."""
    table = service.records(session, actor, settings, query, figure, cohort)
    return RecordsOut(figure=figure, cohort=cohort, as_of=query.as_of, records=rows(table))


@router.get("/opportunities/{crm_id}", response_model=ExplanationOut)
def explain_opportunity(
    crm_id: str,
    as_of: IsoDate | None = Query(None, description="as the records stood that day (default: today)"),
    actor: Actor = Depends(reader),
    session: Session = Depends(db),
    settings: Settings = Depends(app_settings),
) -> ExplanationOut:
    """One opportunity explained: class, touches with evidence and verdict, each model's shares."""
    on = as_of or settings.today()
    found = service.explain(session, actor, settings, on, crm_id)
    return ExplanationOut(
        as_of=on,
        rules=RulesOut.of(found.settings),
        opportunity=found.opportunity,
        touches=found.touches,
        shares=found.shares,
    )
