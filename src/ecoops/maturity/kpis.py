"""The live figures a roadmap task or a maturity criterion names, each read from the metrics engine's own
dashboard figures (metrics/service.py) for the dashboards' default query: as of today, over the twelve
months up to today, unfiltered — or, for content utilisation by Sales on referrals, from the enablement
library's own figure over its default period. So a KPI shows the number its page shows."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy.orm import Session

from ecoops.actors import Actor
from ecoops.config import Settings
from ecoops.enablement import uses
from ecoops.metrics import service

Rows = dict[str, list[dict[str, Any]]]
Unit = Literal["money", "count", "share"]


def _sum(rows: list[dict[str, Any]], column: str, where: Callable[[dict[str, Any]], bool]) -> float:
    return float(sum(r[column] or 0 for r in rows if where(r)))


def _classes(*wanted: str) -> Callable[[dict[str, Any]], bool]:
    return lambda row: row["classification"] in wanted


def _one(rows: list[dict[str, Any]], column: str) -> float | None:
    value = rows[0][column] if rows else None
    return None if value is None else float(value)


def _won_revenue(rows: Rows) -> float:
    """All revenue won in the period, every class: won count x average deal size of each class."""
    return sum((r["won"] or 0) * (r["average_deal_size"] or 0) for r in rows["overlays"])


def _share(part: float, whole: float) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class Kpi:
    """A named figure: its label, unit, the dashboard figures it reads, how, and the records behind it."""

    label: str
    unit: Unit
    figures: tuple[str, ...]
    read: Callable[[Rows], float | None]
    records: str  # the figure whose records page opens the evidence
    cohort: str = ""

    def records_url(self, today: date) -> str:
        if self.records == UTILISATION:
            return (
                f"/enablement?from={uses.default_start(today).isoformat()}&to={today.isoformat()}#utilisation"
            )
        cohort = f"&cohort={self.cohort}" if self.cohort else ""
        return f"/dashboards/figures/{self.records}/records?as_of={today.isoformat()}{cohort}"


UTILISATION = "content_utilisation"  # not a dashboard figure: the enablement library's (docs/enablement.md)


KPIS: dict[str, Kpi] = {
    "sourced_pipeline": Kpi(
        "Partner-sourced pipeline (open, as of today)",
        "money",
        ("pipeline",),
        lambda r: _sum(r["pipeline"], "pipeline", _classes("sourced")),
        "pipeline",
        "sourced",
    ),
    "partner_pipeline": Kpi(
        "Partner-attached pipeline (sourced + influenced, open)",
        "money",
        ("pipeline",),
        lambda r: _sum(r["pipeline"], "pipeline", _classes("sourced", "influenced")),
        "pipeline",
    ),
    "attach_rate": Kpi(
        "Attach rate: partner-attached share of open pipeline",
        "share",
        ("pipeline",),
        lambda r: _share(
            _sum(r["pipeline"], "pipeline", _classes("sourced", "influenced")),
            _sum(r["pipeline"], "pipeline", lambda _row: True),
        ),
        "pipeline",
    ),
    "sourced_revenue": Kpi(
        "Partner-sourced revenue (12 months)",
        "money",
        ("revenue",),
        lambda r: _sum(r["revenue"], "revenue", _classes("sourced")),
        "revenue",
        "sourced",
    ),
    "influenced_revenue": Kpi(
        "Partner-influenced revenue (12 months)",
        "money",
        ("revenue",),
        lambda r: _sum(r["revenue"], "revenue", _classes("influenced")),
        "revenue",
        "influenced",
    ),
    "sourced_revenue_share": Kpi(
        "Partner-sourced share of won revenue (12 months)",
        "share",
        ("revenue", "overlays"),
        lambda r: _share(_sum(r["revenue"], "revenue", _classes("sourced")), _won_revenue(r)),
        "revenue",
        "sourced",
    ),
    "influenced_won": Kpi(
        "Co-sold (partner-influenced) deals won (12 months)",
        "count",
        ("revenue",),
        lambda r: _sum(r["revenue"], "won_opportunities", _classes("influenced")),
        "revenue",
        "influenced",
    ),
    "influenced_revenue_share": Kpi(
        "Partner-influenced share of won revenue (12 months)",
        "share",
        ("revenue", "overlays"),
        lambda r: _share(_sum(r["revenue"], "revenue", _classes("influenced")), _won_revenue(r)),
        "revenue",
        "influenced",
    ),
    "referrals_received": Kpi(
        "Referrals received from partners (12 months)",
        "count",
        ("give_and_get",),
        lambda r: _sum(r["give_and_get"], "referrals_received", lambda _row: True),
        "give_and_get",
    ),
    "partners_engaged": Kpi(
        "Partners active or producing (as of today)",
        "count",
        ("partners_per_stage",),
        lambda r: _sum(
            r["partners_per_stage"], "partners", lambda row: row["stage"] in ("active", "producing")
        ),
        "partners_per_stage",
    ),
    "eql_pre_pipeline": Kpi(
        "EQL pre-pipeline accounts (as of today)",
        "count",
        ("eql_pre_pipeline",),
        lambda r: _one(r["eql_pre_pipeline"], "accounts"),
        "eql_pre_pipeline",
    ),
    "eql_pipeline": Kpi(
        "EQL pipeline: referrals and intros created (12 months)",
        "count",
        ("eql_funnel",),
        lambda r: _one(r["eql_funnel"], "eqls"),
        "eql_funnel",
    ),
    "sql_pipeline": Kpi(
        "SQL pipeline: amount of EQLs that became opportunities (12 months)",
        "money",
        ("eql_funnel",),
        lambda r: _one(r["eql_funnel"], "sql_amount"),
        "eql_funnel",
    ),
    "eql_sql_conversion": Kpi(
        "EQL → SQL conversion (12 months)",
        "share",
        ("eql_funnel",),
        lambda r: _one(r["eql_funnel"], "eql_to_sql_conversion"),
        "eql_funnel",
    ),
    "eql_won_amount": Kpi(
        "Closed-won from EQLs (12 months)",
        "money",
        ("eql_funnel",),
        lambda r: _one(r["eql_funnel"], "won_amount"),
        "eql_funnel",
    ),
    UTILISATION: Kpi(
        "Content utilisation by Sales on referrals (last 90 days)",
        "share",
        (),
        lambda _rows: None,  # read by `values` from the library's figure, not from a dashboard's rows
        UTILISATION,
    ),
}


def dashboard_query(today: date) -> service.MetricsQuery:
    """The dashboards' default query: as of today, the twelve months up to today, no filter."""
    return service.build_query(today)


def values(
    session: Session, actor: Actor, config: Settings, keys: Iterable[str], today: date
) -> dict[str, float | None]:
    """The current value of each KPI named (None: no data, e.g. a share of nothing); one report for all."""
    wanted = sorted(set(keys))
    found: dict[str, float | None] = {}
    if UTILISATION in wanted:
        found[UTILISATION] = uses.utilisation(
            session, actor, uses.default_start(today), today, config.tz
        ).share
    names = sorted({figure for key in wanted for figure in KPIS[key].figures})
    if names:
        report = service.report(session, actor, config, dashboard_query(today), names)
        rows: Rows = {name: report.figures[name].to_pylist() for name in names}
        found |= {key: KPIS[key].read(rows) for key in wanted if KPIS[key].figures}
    return found


def display(unit: Unit, value: float | None) -> str:
    """A KPI's value as the pages show it: amounts and counts with separators, shares in per cent."""
    if value is None:
        return "no data"
    if unit == "share":
        return f"{value:.1%}"
    if unit == "money":
        return f"{value:,.0f}"
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"
