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


class ProgramOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    description: str
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


class PartnerDetailOut(PartnerOut):
    description: str
    domains: list[str]
    stage_changes: list[StageChangeOut]


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
