"""What the metrics API answers: figures as named row lists (null = "no data"), records, explanations."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from ecoops.engines.metrics import MetricsSettings


class RulesOut(BaseModel):
    """The attribution rules the figures were computed with."""

    sourcing_grace_days: int
    influence_look_back_days: int
    time_decay_half_life_days: float
    currency: str

    @classmethod
    def of(cls, settings: MetricsSettings) -> RulesOut:
        return cls(
            sourcing_grace_days=settings.sourcing_grace_days,
            influence_look_back_days=settings.influence_look_back_days,
            time_decay_half_life_days=settings.time_decay_half_life_days,
            currency=settings.currency,
        )


class FiguresOut(BaseModel):
    dashboard: str
    as_of: date
    period_start: date
    period_end: date
    rules: RulesOut
    skipped_opportunities: int = Field(description="stored opportunities without a created or close date")
    figures: dict[str, list[dict[str, Any]]] = Field(
        description="figure name → rows; a null value is 'no data' (an empty cohort), never 0"
    )


class RecordsOut(BaseModel):
    figure: str
    cohort: str
    as_of: date
    records: list[dict[str, Any]]


class ExplanationOut(BaseModel):
    as_of: date
    rules: RulesOut
    opportunity: dict[str, Any] = Field(description="its state and class on the date")
    touches: list[dict[str, Any]] = Field(description="every touch linked to it, its evidence and verdict")
    shares: list[dict[str, Any]] = Field(description="each partner's share under every model (won deals)")
