"""Pydantic shapes of partners, programs and stage changes for the API."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ecoops.partners.models import PartnerType, Stage
from ecoops.web.fields import Id, IsoDate, UtcDateTime

Metric = Literal["sourced_revenue", "won_deals", "referrals_sent", "certified_people"]


class TierCriterionIO(BaseModel):
    """A tier criterion: `metric` at least `threshold` over the `window_days` up to the evaluation date."""

    model_config = ConfigDict(from_attributes=True)
    metric: Metric
    threshold: Decimal = Field(ge=0, lt=Decimal("1e15"), decimal_places=2)
    window_days: int = Field(default=365, ge=1, le=3 * 365)


class TierOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    rank: int
    retired_on: date | None
    registration_days: int | None
    commission_class: str
    mdf_eligible: bool
    portal_content: str
    criteria: list[TierCriterionIO]


class ProgramOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    description: str
    retired_on: date | None
    tiers: list[TierOut]


class MembershipOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    program_id: int
    tier_id: int | None
    joined_on: date | None


class StageChangeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    from_stage: Stage | None
    to_stage: Stage
    changed_on: date
    note: str
    recorded_by: str


class PartnerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    crm_id: str | None
    website: str
    partner_type: PartnerType
    country: str
    owner_id: int | None
    stage: Stage
    stage_since: date
    certified_people: int
    memberships: list[MembershipOut]


class PartnerChangeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    field: str
    old_value: str
    new_value: str
    changed_on: date
    recorded_by: str


class PartnerDetailOut(PartnerOut):
    description: str
    domains: list[str]
    stage_changes: list[StageChangeOut]
    changes: list[PartnerChangeOut]


class PartnerPageOut(BaseModel):
    items: list[PartnerOut]
    total: int
    page: int
    per_page: int


class PartnerIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    partner_type: PartnerType
    stage: Stage = Stage.PROSPECT
    stage_since: IsoDate
    website: str = Field(default="", max_length=300)
    domains: list[str] = Field(default_factory=list, max_length=50)
    country: str = Field(default="", max_length=2)
    owner_id: Id | None = None
    crm_id: str | None = Field(default=None, max_length=64)
    description: str = Field(default="", max_length=5000)
    tier_ids: list[Id] = Field(default_factory=list, max_length=20)


class StageChangeIn(BaseModel):
    to_stage: Stage
    changed_on: IsoDate
    note: str = Field(default="", max_length=2000)


class PartnerPatch(BaseModel):
    """Only the fields given change; `owner_id: null` unassigns the owner, `tier_ids` is the whole set."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    partner_type: PartnerType | None = None
    website: str | None = Field(default=None, max_length=300)
    domains: list[str] | None = Field(default=None, max_length=50)
    country: str | None = Field(default=None, max_length=2)
    description: str | None = Field(default=None, max_length=5000)
    owner_id: Id | None = None
    tier_ids: list[Id] | None = Field(default=None, max_length=20)
    certified_people: int | None = Field(default=None, ge=0, le=100_000)
    changed_on: IsoDate | None = None  # the date the change took effect; today if not given


class ProgramIn(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    description: str = Field(default="", max_length=5000)
    tiers: list[str] = Field(default_factory=list, max_length=20)


class ProgramPatch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    description: str | None = Field(default=None, max_length=5000)
    retired: bool | None = None


class TierIn(BaseModel):
    name: str = Field(min_length=1, max_length=80)


class TierPatch(BaseModel):
    """Only the fields given change. `criteria` is the whole list (`[]`: none); `registration_days: null`
    means the workspace's default registration window."""

    name: str | None = Field(default=None, min_length=1, max_length=80)
    rank: int | None = Field(default=None, ge=0, le=1000)
    retired: bool | None = None
    registration_days: int | None = Field(default=None, ge=1, le=3650)
    commission_class: str | None = Field(default=None, max_length=60)
    mdf_eligible: bool | None = None
    portal_content: str | None = Field(default=None, max_length=5000)
    criteria: list[TierCriterionIO] | None = Field(default=None, max_length=4)


TERMS_FIELDS = frozenset(
    {"registration_days", "commission_class", "mdf_eligible", "portal_content", "criteria"}
)


class TierProposalOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    partner_id: int
    program_id: int
    from_tier_id: int | None
    to_tier_id: int
    direction: Literal["upgrade", "downgrade"]
    as_of: date
    figures: list[dict[str, Any]]
    status: Literal["open", "approved", "dismissed", "stale"]
    created_at: UtcDateTime
    created_by: str
    decided_at: UtcDateTime | None
    decided_by: str
    note: str


class TierProposalPageOut(BaseModel):
    items: list[TierProposalOut]
    total: int
    page: int
    per_page: int


class DecisionIn(BaseModel):
    note: str = Field(default="", max_length=2000)


class EvaluationIn(BaseModel):
    as_of: IsoDate | None = None  # today if not given


class EvaluationOut(BaseModel):
    as_of: date
    evaluated: int
    proposed: list[TierProposalOut]
