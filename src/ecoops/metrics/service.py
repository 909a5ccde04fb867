"""The figures an actor asks for: stored records fed to the engine, one snapshot per request, named rows out.

Every interface (pages, API, `ecoops report`) goes through here, so all of them show the same numbers
for the same (as-of date, period, filters) and check READ_METRICS the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.accounts.models import User
from ecoops.actors import Actor
from ecoops.attribution.models import PartnerTouch
from ecoops.attribution.rules import settings_in_force
from ecoops.config import Settings
from ecoops.data_version import data_version
from ecoops.engines.metrics import (
    NO_FILTERS,
    Explained,
    Filters,
    MetricsSettings,
    OpportunityExplanation,
    Period,
    Snapshot,
    attribute_revenue,
    classify_opportunities,
    days_in_stage,
    eql_funnel,
    eql_pre_pipeline,
    explain_opportunity,
    first_revenue,
    forecast_from_overlaps,
    give_and_get,
    partner_revenue,
    partner_vs_direct,
    partners_needed,
    partners_per_stage,
    pipeline_by_class,
    take_snapshot,
    tenure_and_retention,
    time_to_recruit,
)
from ecoops.metrics import cache
from ecoops.metrics.feed import Feed, load_inputs
from ecoops.partners.models import Partner, Program, Tier
from ecoops.permissions import NotFound, Permission, require


@dataclass(frozen=True)
class MetricsQuery:
    """What a reader asks: the date the records stand as, the period flows are counted over, the filters."""

    as_of: date
    period: Period
    filters: Filters = NO_FILTERS
    target_revenue: float = 1_000_000.0  # the $X of "partners needed for $X"


def trailing_year(as_of: date) -> Period:
    """The default period: the twelve months up to and including `as_of`."""
    return Period(as_of - timedelta(days=364), as_of)


def build_query(
    today: date,
    *,
    as_of: date | None = None,
    start: date | None = None,
    end: date | None = None,
    partners: Iterable[int] = (),
    programs: Iterable[int] = (),
    tiers: Iterable[int] = (),
    types: Iterable[str] = (),
    owners: Iterable[int] = (),
    deal_owners: Iterable[str] = (),
    target_revenue: float = 1_000_000.0,
) -> MetricsQuery:
    """A query from what a reader typed: as of today, over the trailing year, unless told otherwise.

    The period ends on `end`, else on the as-of date; it starts on `start`, else a year before its end.
    Raises ValueError for a period that ends before it starts.
    """
    on = as_of or today
    until = end or on
    return MetricsQuery(
        as_of=on,
        period=Period(start or trailing_year(until).start, until),
        filters=Filters(
            partner_ids=tuple(partners),
            program_ids=tuple(programs),
            tier_ids=tuple(tiers),
            partner_types=tuple(t for t in types if t),
            partner_owner_ids=tuple(owners),
            opportunity_owners=tuple(o for o in deal_owners if o),
        ),
        target_revenue=target_revenue,
    )


@dataclass(frozen=True)
class Figure:
    """A named figure: its title, how the engine computes it, and the column its cohorts are keyed by."""

    title: str
    compute: Callable[[Snapshot, MetricsQuery], Explained]
    cohort: str | None = None


def _months(period: Period) -> list[Period]:
    months, start = [], period.start
    while start <= period.end:
        following = (start.replace(day=1) + timedelta(days=32)).replace(day=1)
        months.append(Period(start, min(following - timedelta(days=1), period.end)))
        start = following
    return months


def _revenue_by_month(snapshot: Snapshot, query: MetricsQuery) -> Explained:
    rows = []
    for month in _months(query.period):
        revenue = {
            r["classification"]: r
            for r in partner_revenue(snapshot, month, query.filters).figures.to_pylist()
        }
        rows.append(
            {
                "month": month.start.strftime("%Y-%m"),
                **{
                    f"{cls}_{name}": revenue.get(cls, {}).get(
                        name, 0 if name == "won_opportunities" else None
                    )
                    for cls in ("sourced", "influenced")
                    for name in ("won_opportunities", "revenue")
                },
            }
        )
    whole = partner_revenue(snapshot, query.period, query.filters)
    return Explained(pa.Table.from_pylist(rows), lambda: whole.records)


def _scorecard(snapshot: Snapshot, query: MetricsQuery) -> Explained:
    """One row per partner: its credited revenue under `sourced` and `linear`, and its give and get."""
    attributed = attribute_revenue(snapshot, query.period, query.filters)
    exchanged = give_and_get(snapshot, query.period, query.filters).figures.to_pylist()
    credit: dict[tuple[str, int], dict[str, Any]] = {
        (r["model"], r["partner_id"]): r for r in attributed.figures.to_pylist()
    }
    rows = []
    for partner in exchanged:
        sourced = credit.get(("sourced", partner["partner_id"]), {})
        linear = credit.get(("linear", partner["partner_id"]), {})
        rows.append(
            {
                "partner_id": partner["partner_id"],
                "sourced_won": sourced.get("opportunities", 0),
                "sourced_revenue": sourced.get("attributed_revenue"),
                "linear_won": linear.get("opportunities", 0),
                "linear_revenue": linear.get("attributed_revenue"),
                **{k: v for k, v in partner.items() if k != "partner_id"},
            }
        )
    rows.sort(key=lambda r: (-(r["linear_revenue"] or 0), r["partner_id"]))
    return Explained(pa.Table.from_pylist(rows), lambda: attributed.records)


def _add_months(day: date, months: int) -> date:
    """The same day `months` later (29 February → 28 February, 31st → the month's last day)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    following = date(year + month // 12, month % 12 + 1, 1)
    return min(date(year, month, 1) + timedelta(days=day.day - 1), following - timedelta(days=1))


RETENTION_MONTHS = 24


def _retention_curve(snapshot: Snapshot, query: MetricsQuery) -> Explained:
    """For each month k after the first signing: of the partners first signed at least k months before the
    as-of date, the share whose first spell had not ended k months after it (the 12-month point is the
    engine's retention rate); "no data" once no partner was signed that long ago."""
    tenure = tenure_and_retention(snapshot, query.filters)
    spells = tenure.records.to_pylist()
    rows = []
    for months in range(RETENTION_MONTHS + 1):
        cohort = [s for s in spells if _add_months(s["first_signed_on"], months) <= query.as_of]
        retained = [
            s
            for s in cohort
            if s["first_left_on"] is None or s["first_left_on"] > _add_months(s["first_signed_on"], months)
        ]
        rows.append(
            {
                "months_after_signing": months,
                "cohort": len(cohort),
                "retained": len(retained),
                "retention_rate": len(retained) / len(cohort) if cohort else None,
            }
        )
    return Explained(pa.Table.from_pylist(rows), lambda: pa.Table.from_pylist(spells))


def _flow(
    function: Callable[[Snapshot, Period, Filters], Explained],
) -> Callable[[Snapshot, MetricsQuery], Explained]:
    return lambda snapshot, query: function(snapshot, query.period, query.filters)


def _stock(
    function: Callable[[Snapshot, Filters], Explained],
) -> Callable[[Snapshot, MetricsQuery], Explained]:
    return lambda snapshot, query: function(snapshot, query.filters)


FIGURES: dict[str, Figure] = {
    "revenue": Figure("Sourced and influenced revenue (period)", _flow(partner_revenue), "classification"),
    "revenue_by_month": Figure("Revenue by month (period)", _revenue_by_month),
    "pipeline": Figure("Pipeline by class (as of)", _stock(pipeline_by_class), "classification"),
    "classification": Figure(
        "Opportunities by class (as of)", _stock(classify_opportunities), "classification"
    ),
    "overlays": Figure("Partner vs direct (closed in period)", _flow(partner_vs_direct), "classification"),
    "days_in_stage": Figure("Days in stage (visits ended in period)", _flow(days_in_stage), "classification"),
    "attribution": Figure(
        "Attributed revenue per model and partner (period)", _flow(attribute_revenue), "model"
    ),
    "scorecard": Figure("Partner scorecard (period)", _scorecard, "partner_id"),
    "partners_per_stage": Figure(
        "Partners per life-cycle stage (as of)", _stock(partners_per_stage), "stage"
    ),
    "time_to_recruit": Figure("Time to recruit (signings in period)", _flow(time_to_recruit)),
    "first_revenue": Figure("Time to first revenue and activation (signed in period)", _flow(first_revenue)),
    "tenure_and_retention": Figure("Tenure and 12-month retention (as of)", _stock(tenure_and_retention)),
    "retention_curve": Figure("Retention curve: months after first signing (as of)", _retention_curve),
    "partners_needed": Figure(
        "Partners needed for the target, per program",
        lambda snapshot, query: partners_needed(snapshot, query.target_revenue, query.filters),
        "program_id",
    ),
    "give_and_get": Figure("Give and get per partner (period)", _flow(give_and_get), "partner_id"),
    "eql_pre_pipeline": Figure("EQL pre-pipeline (as of)", _stock(eql_pre_pipeline)),
    "eql_funnel": Figure("EQL → SQL funnel (created in period)", _flow(eql_funnel)),
    "forecast": Figure(
        "Forecast from overlaps (a forecast, not a result)", _stock(forecast_from_overlaps), "partner_id"
    ),
}


@dataclass(frozen=True)
class Dashboard:
    """A page of figures: the same groups on the web, in the API and in `ecoops report`."""

    title: str
    figures: tuple[str, ...]
    # Long tables the web page keeps off its front (charts and short tables), each behind a tab of its own.
    details: tuple[str, ...] = ()


DASHBOARDS: dict[str, Dashboard] = {
    "overview": Dashboard(
        "Program overview",
        (
            "revenue",
            "revenue_by_month",
            "pipeline",
            "overlays",
            "classification",
            "days_in_stage",
            "attribution",
        ),
        details=("revenue_by_month", "days_in_stage", "attribution"),
    ),
    "scorecard": Dashboard("Partner scorecard", ("scorecard",)),
    "life-cycle": Dashboard(
        "Partner life cycle",
        (
            "partners_per_stage",
            "time_to_recruit",
            "first_revenue",
            "tenure_and_retention",
            "retention_curve",
            "partners_needed",
            "give_and_get",
        ),
        details=("retention_curve", "give_and_get"),
    ),
    "eql-funnel": Dashboard("EQL funnel", ("eql_pre_pipeline", "eql_funnel")),
    "forecast": Dashboard("Forecast from overlaps", ("forecast",)),
}


@dataclass(frozen=True)
class Report:
    """Figures for one query, partner and program ids named, and the rules they were computed with."""

    query: MetricsQuery
    settings: MetricsSettings
    figures: dict[str, pa.Table] = field(default_factory=dict)
    skipped_opportunities: int = 0
    read_at: datetime | None = None  # when the records were read
    lagging: bool = False  # records changed since then are being counted (cached_inputs)


def _names(session: Session) -> dict[str, dict[int, str]]:
    partners = {i: name for i, name in session.execute(select(Partner.id, Partner.name))}
    return {
        "partner_id": partners,
        "source_partner_id": partners,
        "program_id": {i: name for i, name in session.execute(select(Program.id, Program.name))},
    }


def _with_names(table: pa.Table, names: dict[str, dict[int, str]]) -> pa.Table:
    """Put a readable name beside each partner or program id column."""
    for column, labels in names.items():
        if column in table.column_names:
            named = pa.array([labels.get(i) for i in table.column(column).to_pylist()], pa.string())
            table = table.add_column(table.column_names.index(column) + 1, column.removesuffix("_id"), named)
    return table


@dataclass(frozen=True)
class _Context:
    """What every figure of one request reads: the fed records and the rules, and the cache key they make."""

    key: tuple[Any, ...]
    feed: Feed
    rules: MetricsSettings
    read_at: datetime  # when the records were last known to be the current ones
    lagging: bool = False  # the records have changed since: newer figures are being computed


# The records every report in this thread stands on, while `pinned_records` holds them.
_PINNED: ContextVar[_Context | None] = ContextVar("ecoops_pinned_records", default=None)


def _context(session: Session, actor: Actor, config: Settings, *, fresh: bool = False) -> _Context:
    require(actor, Permission.READ_METRICS)
    return _PINNED.get() or cached_inputs(session, config, fresh=fresh)


@contextmanager
def pinned_records(session: Session, config: Settings) -> Iterator[_Context]:
    """The records as they are now, read once (`fresh`), on which every report inside computes what it
    misses, taking no other records' figures: the warmer's default query and goals, each its own report,
    all on one read, however often the records change meanwhile."""
    context = cached_inputs(session, config, fresh=True)
    token = _PINNED.set(context)
    try:
        yield context
    finally:
        _PINNED.reset(token)


def _version_key(session: Session) -> tuple[Any, str]:
    """What a cache key starts with: the data version, and the database's address (two instances served by
    one process, the tests' two ecoops servers, may stand at the same version numbers)."""
    return data_version(session), session.get_bind().engine.url.render_as_string(hide_password=True)


# How many warming intervals old the records a reader stands on may be. The warmer's cycle is its
# interval after it finishes plus its own reading and computing, which on a loaded machine take as long
# again; any newer read under way counts too, since by the time a reader asks, the version the warmer
# reads has often moved on. Beyond it (a stuck warmer) readers read for themselves.
LAG_INTERVALS = 3


def _same_database(key: tuple[Any, ...]) -> Callable[[Any], bool]:
    """Whether another inputs key is of the same database (currency and time zone too) as `key`."""
    return lambda other: bool(other[1:] == key[1:])


def _young(read_at: datetime, config: Settings) -> bool:
    """Whether records last known current at `read_at` may still stand for newer ones (`cached_inputs`)."""
    return (datetime.now(UTC) - read_at).total_seconds() < LAG_INTERVALS * config.warm_dashboards_seconds


def cached_inputs(session: Session, config: Settings, *, fresh: bool = True) -> _Context:
    """The fed records and the rules in force, from the cache while the records are unchanged (no access
    check: for the system's own work, e.g. values written back to the CRM).

    Not `fresh`, in a process that keeps the dashboards warm (metrics/warm.py): records last known to be
    current less than `LAG_INTERVALS` times `warm_dashboards_seconds` ago, or while newer ones are being
    read, stand for records that have changed since (marked `lagging`). Under a stream of writes every
    request would otherwise read the whole workspace again, and people wait in line for it; the warming
    thread reads the new ones meanwhile (`pinned_records` asks `fresh`).
    """
    key = (*_version_key(session), config.currency, str(config.tz))
    known = cache.INPUTS.get(key)
    if known is not None:
        # Still the records as they are: they stand for now. After a quiet while, the first change must not
        # find them too old to stand for the new ones (`_young`).
        feed, rules, read_at = cache.INPUTS.put(key, (*known[:2], datetime.now(UTC)))
        return _Context(key, feed, rules, read_at)
    if not fresh and cache.WARMING.is_set():
        same_database = _same_database(key)
        recent = cache.INPUTS.newest(same_database)
        if recent is not None:
            feed, rules, read_at = recent[1]
            if _young(read_at, config) or cache.INPUTS.is_computing(same_database):
                return _Context(recent[0], feed, rules, read_at, lagging=True)  # type: ignore[arg-type]
    feed, rules, read_at = cache.INPUTS.get_or_compute(
        key,
        lambda: (
            load_inputs(session, config.tz),
            settings_in_force(session, config.currency),
            datetime.now(UTC),
        ),
    )
    return _Context(key, feed, rules, read_at)


def _while_computed(
    context: _Context, config: Settings, query: MetricsQuery, figures: dict[str, pa.Table | None]
) -> tuple[_Context, dict[str, pa.Table | None]]:
    """While another thread computes figures on `context`'s records (the warmer, after a write, works
    through the default query and then the overview's goals, each its own query), `query`'s figures on the
    other records of the same database still cached, if all there and read less than `LAG_INTERVALS`
    intervals ago (marked `lagging`): readers would otherwise wait for that computation, or compute their
    own beside it, after every write. Else `context` and `figures` as they were."""

    def on_these_records(key: Any) -> bool:  # FIGURES computes per (inputs key, query)
        return bool(key[0] == context.key)

    if not cache.FIGURES.is_computing(on_these_records):
        return context, figures
    same_database = _same_database(context.key)
    found = cache.INPUTS.newest(lambda key: key != context.key and same_database(key))
    if found is None or not _young(found[1][2], config):
        return context, figures
    key, (feed, rules, read_at) = found
    standing = {n: cache.FIGURES.get((key, query, n)) for n in figures}
    if any(table is None for table in standing.values()):
        return context, figures
    return _Context(key, feed, rules, read_at, lagging=True), standing  # type: ignore[arg-type]


def report(
    session: Session,
    actor: Actor,
    config: Settings,
    query: MetricsQuery,
    names: Iterable[str] = FIGURES,
    *,
    fresh: bool = False,
) -> Report:
    """The named figures for `query` (all of them by default); figures already computed on the same
    records for the same query come from the cache (cache.py)."""
    wanted = list(names)
    unknown = [n for n in wanted if n not in FIGURES]
    if unknown:
        raise ValueError(f"unknown figure(s) {', '.join(unknown)}; one of {', '.join(FIGURES)}")
    context = _context(session, actor, config, fresh=fresh)
    figures: dict[str, pa.Table | None] = {n: cache.FIGURES.get((context.key, query, n)) for n in wanted}
    stand_in = not fresh and _PINNED.get() is None and cache.WARMING.is_set()
    if any(table is None for table in figures.values()) and stand_in:
        context, figures = _while_computed(context, config, query, figures)
    if any(table is None for table in figures.values()):
        with cache.FIGURES.computing((context.key, query)):
            # What a request this one waited for computed meanwhile is taken, the rest computed here.
            figures = {n: figures[n] or cache.FIGURES.get((context.key, query, n)) for n in wanted}
            missing = [n for n, table in figures.items() if table is None]
            if missing:
                labels = _names(session)
                with take_snapshot(context.feed.inputs, query.as_of, context.rules) as snapshot:
                    for n in missing:
                        table = _with_names(FIGURES[n].compute(snapshot, query).figures, labels)
                        figures[n] = cache.FIGURES.put((context.key, query, n), table)
    computed = {n: table for n, table in figures.items() if table is not None}
    return Report(
        query, context.rules, computed, context.feed.skipped_opportunities, context.read_at, context.lagging
    )


def records(
    session: Session, actor: Actor, config: Settings, query: MetricsQuery, name: str, cohort: str = ""
) -> pa.Table:
    """The records behind figure `name`; with `cohort`, only those of that cohort (e.g. one class)."""
    figure = FIGURES.get(name)
    if figure is None:
        raise NotFound(f"no figure {name!r}")
    context = _context(session, actor, config)

    def compute() -> pa.Table:
        with take_snapshot(context.feed.inputs, query.as_of, context.rules) as snapshot:
            rows = figure.compute(snapshot, query).records
        if cohort and figure.cohort and figure.cohort in rows.column_names:
            key = rows.column(figure.cohort)
            value: Any = (
                int(cohort) if pa.types.is_integer(key.type) and cohort.lstrip("-").isdigit() else cohort
            )
            rows = rows.filter(pc.equal(key, pa.scalar(value, key.type)))
        return _with_names(rows, _names(session))

    table: pa.Table = cache.RECORDS.get_or_compute((context.key, query, name, cohort), compute)
    return table


@dataclass(frozen=True)
class Explanation:
    """One opportunity as of a date: `opportunity`, `touches` (with verdicts) and `shares`, names added."""

    opportunity: dict[str, Any]
    touches: list[dict[str, Any]]
    shares: list[dict[str, Any]]
    settings: MetricsSettings


def explain(session: Session, actor: Actor, config: Settings, as_of: date, crm_id: str) -> Explanation:
    """Why opportunity `crm_id` is in its class and who gets which share (NotFound if it did not exist)."""
    context = _context(session, actor, config)
    with take_snapshot(context.feed.inputs, as_of, context.rules) as snapshot:
        found: OpportunityExplanation = explain_opportunity(snapshot, crm_id)
    if not found.opportunity.num_rows:
        raise NotFound(f"no opportunity {crm_id!r} on {as_of}")
    labels = _names(session)
    touches = _with_names(found.touches.drop_columns(["opportunity_key"]), labels).to_pylist()
    # The engine carries the evidence's type and reference; the note and who recorded it are stored beside.
    stored = {
        touch_id: (note, recorded_by)
        for touch_id, note, recorded_by in session.execute(
            select(PartnerTouch.id, PartnerTouch.note, PartnerTouch.recorded_by).where(
                PartnerTouch.id.in_([t["touch_id"] for t in touches if t["touch_id"] > 0])
            )
        )
    }
    for touch in touches:
        touch["note"], touch["recorded_by"] = stored.get(
            touch["touch_id"], ("", "derived from the CRM field")
        )
    return Explanation(
        opportunity=_with_names(found.opportunity.drop_columns(["opportunity_key"]), labels).to_pylist()[0],
        touches=touches,
        shares=_with_names(found.shares, labels).to_pylist(),
        settings=context.rules,
    )


@dataclass(frozen=True)
class FilterOptions:
    """What the filter form offers: (id, name) pairs, partner types and partner managers."""

    partners: list[tuple[int, str]]
    programs: list[tuple[int, str]]
    tiers: list[tuple[int, str]]
    types: list[str]
    owners: list[tuple[int, str]]


def filter_options(session: Session, actor: Actor) -> FilterOptions:
    """The choices of the dashboards' filter form.

    Partners, programs, tiers and types come from the cache while the data version stands (they are read
    tables: a change moves it); the partner managers' names are read each time, since renaming a user
    does not move it.
    """
    require(actor, Permission.READ_METRICS)
    cached: FilterOptions = cache.CHOICES.get_or_compute(_version_key(session), lambda: _choices(session))
    owners = session.execute(
        select(User.id, User.name).where(User.id.in_(select(Partner.owner_id))).order_by(User.name)
    )
    return replace(cached, owners=[(i, n) for i, n in owners])


def _choices(session: Session) -> FilterOptions:
    """The cached part of the filter form's choices (no managers)."""
    return FilterOptions(
        partners=[
            (i, n) for i, n in session.execute(select(Partner.id, Partner.name).order_by(Partner.name))
        ],
        programs=[
            (i, n) for i, n in session.execute(select(Program.id, Program.name).order_by(Program.name))
        ],
        tiers=[
            (i, f"{p} · {t}")
            for i, p, t in session.execute(
                select(Tier.id, Program.name, Tier.name).join(Program).order_by(Program.name, Tier.rank)
            )
        ],
        types=list(session.scalars(select(Partner.partner_type).distinct().order_by(Partner.partner_type))),
        owners=[],
    )
