"""The attribution rules in force (sourcing grace, influence look-back, time-decay half-life, what the CRM's
partner field is worth), with history.

Every change is a new row plus an audit event, so "which rules produced last quarter's figures" has an
answer; the figures always use the latest row (the shipped defaults before the first change).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.actors import Actor
from ecoops.attribution.models import CRM_SOURCE_STATUS, CrmPartnerField, MetricSettingsChange
from ecoops.engines.metrics import MetricsSettings
from ecoops.permissions import Permission, require


def settings_in_force(session: Session, currency: str) -> MetricsSettings:
    """The engine settings: the latest stored rules, or the defaults of METRICS.md when none is stored."""
    latest = session.scalars(select(MetricSettingsChange).order_by(MetricSettingsChange.id.desc())).first()
    if latest is None:
        return MetricsSettings(currency=currency)
    return MetricsSettings(
        sourcing_grace_days=latest.sourcing_grace_days,
        influence_look_back_days=latest.influence_look_back_days,
        time_decay_half_life_days=latest.time_decay_half_life_days,
        currency=currency,
    )


def partner_field_rule(session: Session) -> CrmPartnerField:
    """Whether the CRM's partner field is the system of record, or waits for review (the default)."""
    latest = session.scalars(select(MetricSettingsChange).order_by(MetricSettingsChange.id.desc())).first()
    return CrmPartnerField(latest.crm_partner_field) if latest is not None else CrmPartnerField.REVIEW


def crm_source_status(session: Session) -> str:
    """The status a crm_source touch derived from the partner field takes under the rule in force."""
    return CRM_SOURCE_STATUS[partner_field_rule(session)]


def history(session: Session, actor: Actor) -> list[MetricSettingsChange]:
    """Every version of the rules, newest first."""
    require(actor, Permission.READ_METRICS)
    return list(session.scalars(select(MetricSettingsChange).order_by(MetricSettingsChange.id.desc())))


def change_rules(
    session: Session,
    actor: Actor,
    *,
    sourcing_grace_days: int,
    influence_look_back_days: int,
    time_decay_half_life_days: float,
    reason: str,
    currency: str,
    crm_partner_field: CrmPartnerField | None = None,
) -> MetricSettingsChange:
    """Store a new version of the rules (checked as the engine checks them), audited with the old values."""
    require(actor, Permission.MANAGE_METRIC_SETTINGS)
    if not reason.strip():
        raise ValueError("say why the rules change (the reason is kept with them)")
    before = settings_in_force(session, currency)
    field_before = partner_field_rule(session)
    field_after = crm_partner_field or field_before  # not given: the rule in force stays
    MetricsSettings(  # raises ValueError for values the definitions do not allow
        sourcing_grace_days=sourcing_grace_days,
        influence_look_back_days=influence_look_back_days,
        time_decay_half_life_days=time_decay_half_life_days,
    )
    change = MetricSettingsChange(
        sourcing_grace_days=sourcing_grace_days,
        influence_look_back_days=influence_look_back_days,
        time_decay_half_life_days=time_decay_half_life_days,
        crm_partner_field=field_after.value,
        reason=reason.strip(),
        changed_by=actor.label,
    )
    session.add(change)
    session.flush()
    audit.record(
        session,
        actor,
        "metric_settings.changed",
        "metric_settings",
        change.id,
        reason=change.reason,
        before={
            "sourcing_grace_days": before.sourcing_grace_days,
            "influence_look_back_days": before.influence_look_back_days,
            "time_decay_half_life_days": before.time_decay_half_life_days,
            "crm_partner_field": field_before.value,
        },
        after={
            "sourcing_grace_days": sourcing_grace_days,
            "influence_look_back_days": influence_look_back_days,
            "time_decay_half_life_days": time_decay_half_life_days,
            "crm_partner_field": field_after.value,
        },
    )
    return change
