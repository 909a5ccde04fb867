"""The metrics engine: every figure of METRICS.md over Arrow tables, as of any date, with its records.

Validate the tables (`validate_inputs`), take a snapshot on a date (`take_snapshot`), then ask for
figures; each returns `Explained(figures, records)`. See docs/metrics.md.
"""

from ecoops.engines.metrics.activation import first_revenue, partners_needed
from ecoops.engines.metrics.attribution import MODELS, attribute_revenue, attribution_shares
from ecoops.engines.metrics.classification import CLASSES, classify_opportunities
from ecoops.engines.metrics.dashboard import dashboard
from ecoops.engines.metrics.explain import OpportunityExplanation, explain_opportunity
from ecoops.engines.metrics.forecast import forecast_from_overlaps
from ecoops.engines.metrics.funnel import eql_funnel, eql_pre_pipeline, give_and_get
from ecoops.engines.metrics.inputs import MetricsInputError, MetricsInputs, validate_inputs
from ecoops.engines.metrics.life_cycle import partners_per_stage, tenure_and_retention, time_to_recruit
from ecoops.engines.metrics.overlap_touches import overlap_touches
from ecoops.engines.metrics.overlays import days_in_stage, partner_vs_direct
from ecoops.engines.metrics.results import Explained
from ecoops.engines.metrics.revenue import partner_revenue, pipeline_by_class
from ecoops.engines.metrics.settings import NO_FILTERS, Filters, MetricsSettings, Period
from ecoops.engines.metrics.snapshot import Snapshot, take_snapshot

__all__ = [
    "CLASSES",
    "MODELS",
    "NO_FILTERS",
    "Explained",
    "Filters",
    "MetricsInputError",
    "MetricsInputs",
    "MetricsSettings",
    "OpportunityExplanation",
    "Period",
    "Snapshot",
    "attribute_revenue",
    "attribution_shares",
    "classify_opportunities",
    "dashboard",
    "days_in_stage",
    "eql_funnel",
    "eql_pre_pipeline",
    "explain_opportunity",
    "first_revenue",
    "forecast_from_overlaps",
    "give_and_get",
    "overlap_touches",
    "partner_revenue",
    "partner_vs_direct",
    "partners_needed",
    "partners_per_stage",
    "pipeline_by_class",
    "take_snapshot",
    "tenure_and_retention",
    "time_to_recruit",
    "validate_inputs",
]
