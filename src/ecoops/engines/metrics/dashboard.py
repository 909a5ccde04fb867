"""Every dashboard figure for one period from one snapshot: what the benchmark times and pages show."""

from __future__ import annotations

from ecoops.engines.metrics.activation import first_revenue, partners_needed
from ecoops.engines.metrics.attribution import attribute_revenue
from ecoops.engines.metrics.classification import classify_opportunities
from ecoops.engines.metrics.forecast import forecast_from_overlaps
from ecoops.engines.metrics.funnel import eql_funnel, eql_pre_pipeline, give_and_get
from ecoops.engines.metrics.life_cycle import partners_per_stage, tenure_and_retention, time_to_recruit
from ecoops.engines.metrics.overlays import days_in_stage, partner_vs_direct
from ecoops.engines.metrics.results import Explained
from ecoops.engines.metrics.revenue import partner_revenue, pipeline_by_class
from ecoops.engines.metrics.settings import NO_FILTERS, Filters, Period
from ecoops.engines.metrics.snapshot import Snapshot


def dashboard(
    snapshot: Snapshot, period: Period, target_revenue: float, filters: Filters = NO_FILTERS
) -> dict[str, Explained]:
    """All figures of METRICS.md for `period` on the snapshot date, keyed by figure name."""
    return {
        "classification": classify_opportunities(snapshot, filters),
        "revenue": partner_revenue(snapshot, period, filters),
        "pipeline": pipeline_by_class(snapshot, filters),
        "attribution": attribute_revenue(snapshot, period, filters),
        "overlays": partner_vs_direct(snapshot, period, filters),
        "days_in_stage": days_in_stage(snapshot, period, filters),
        "partners_per_stage": partners_per_stage(snapshot, filters),
        "time_to_recruit": time_to_recruit(snapshot, period, filters),
        "first_revenue": first_revenue(snapshot, period, filters),
        "tenure_and_retention": tenure_and_retention(snapshot, filters),
        "partners_needed": partners_needed(snapshot, target_revenue, filters),
        "give_and_get": give_and_get(snapshot, period, filters),
        "eql_pre_pipeline": eql_pre_pipeline(snapshot, filters),
        "eql_funnel": eql_funnel(snapshot, period, filters),
        "forecast": forecast_from_overlaps(snapshot, filters),
    }
