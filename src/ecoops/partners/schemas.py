"""Pydantic shapes of partners, programs and stage changes for the API."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from ecoops.partners.models import PartnerType, Stage
from ecoops.web.fields import Id, IsoDate


class TierOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    rank: int
    retired_on: date | None


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
    name: str | None = Field(default=None, min_length=1, max_length=80)
    rank: int | None = Field(default=None, ge=0, le=1000)
    retired: bool | None = None
