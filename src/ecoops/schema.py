"""Imports every domain's models so the metadata (Alembic, tests) sees all tables."""

from ecoops.accounts import models as accounts_models
from ecoops.attribution import models as attribution_models
from ecoops.audit import AuditEvent
from ecoops.automation import deliveries as delivery_models
from ecoops.automation import endpoints as endpoint_models
from ecoops.automation import rules as rules_models
from ecoops.automation import scanner as scanner_models
from ecoops.automation import tasks as tasks_models
from ecoops.automation import throttle as throttle_models
from ecoops.automation.digest import models as digest_models
from ecoops.automation.nurture import models as nurture_models
from ecoops.commissions import models as commissions_models
from ecoops.crm import models as crm_models
from ecoops.crm.connections import models as crm_connection_models
from ecoops.crm.writeback import models as writeback_models
from ecoops.db import Base
from ecoops.enablement import models as enablement_models
from ecoops.events import models as events_models
from ecoops.fit import models as fit_models
from ecoops.goals import models as goals_models
from ecoops.jobs import models as jobs_models
from ecoops.mapping import models as mapping_models
from ecoops.maturity import models as maturity_models
from ecoops.metrics import models as metrics_models
from ecoops.onboarding import models as onboarding_models
from ecoops.partners import models as partners_models
from ecoops.psi import models as psi_models
from ecoops.referrals import models as referrals_models
from ecoops.reports import models as reports_models
from ecoops.roi import models as roi_models

metadata = Base.metadata

__all__ = [
    "AuditEvent",
    "accounts_models",
    "attribution_models",
    "commissions_models",
    "crm_connection_models",
    "crm_models",
    "delivery_models",
    "digest_models",
    "enablement_models",
    "endpoint_models",
    "events_models",
    "fit_models",
    "goals_models",
    "jobs_models",
    "mapping_models",
    "maturity_models",
    "metadata",
    "metrics_models",
    "nurture_models",
    "onboarding_models",
    "partners_models",
    "psi_models",
    "referrals_models",
    "reports_models",
    "roi_models",
    "rules_models",
    "scanner_models",
    "tasks_models",
    "throttle_models",
    "writeback_models",
]
