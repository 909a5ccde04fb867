"""Pydantic shapes of the mapping API: populations, the overlap matrix, overlapping pairs, decisions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ecoops.mapping.models import Decision, SharingLevel
from ecoops.web.fields import UtcDateTime


class PopulationIn(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    filter: dict[str, Any]


class PopulationOut(BaseModel):
    key: str
    name: str
    built_in: bool
    filter: dict[str, Any] | None = None
    accounts: int


class MatrixCell(BaseModel):
    ours: str
    theirs: str
    accounts: int = Field(description="Our distinct accounts in both populations")
    their_accounts: int = Field(description="The partner's distinct records they matched")
    open_amount: Decimal = Field(description="Those accounts' open opportunity amount, each account once")
    share_of_ours: float = Field(description="accounts / our population's size (0 to 1)")
    share_of_theirs: float = Field(description="their_accounts / the partner's population's size (0 to 1)")


class MatrixOut(BaseModel):
    our_populations: dict[str, str]
    their_populations: list[str]
    our_sizes: dict[str, int] = Field(description="Our accounts per population (the filter applied)")
    their_sizes: dict[str, int] = Field(description="The partner's records per population")
    cells: list[MatrixCell]


class OverlapOut(BaseModel):
    """One overlapping pair, with why it matched (the engine's evidence)."""

    model_config = ConfigDict(from_attributes=True)
    our_crm_id: str
    our_name: str
    owner: str
    open_opportunities: int
    open_amount: Decimal
    our_populations: list[str]
    their_id: str
    their_name: str
    their_population: str
    their_fields: dict[str, str]
    method: str
    score: float
    explanation: dict[str, Any]
    since: date | None = Field(None, description="The day the current overlap began")


class DecisionIn(BaseModel):
    our_crm_id: str = Field(min_length=1, max_length=64)
    their_id: str = Field(min_length=1, max_length=120)
    decision: Decision
    reason: str = ""


class DecisionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    our_crm_id: str
    their_id: str
    decision: str
    reason: str
    decided_by: str
    decided_at: UtcDateTime


class RuleIO(BaseModel):
    """A sharing rule: the level and the account fields shown."""

    level: SharingLevel
    fields: list[str] = []


class SharedPopulationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    key: str
    name: str
    level: SharingLevel
    counts: dict[str, int]
    accounts: list[dict[str, str]]


class SharedAccountOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    crm_id: str
    name: str
    owner: str
    open_opportunities: int
    open_amount: Decimal
    partners: list[tuple[str, str]]


class DomainAliasIn(BaseModel):
    alias: str = Field(min_length=1, max_length=300, description="acme.de, www.acme.de or https://acme.de/")
    domain: str = Field(min_length=1, max_length=300, description="The domain the alias stands for")


class DomainAliasOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    alias: str
    domain: str
    created_by: str
    created_at: UtcDateTime


class ParentLinkIn(BaseModel):
    child_crm_id: str = Field(min_length=1, max_length=64, description="Our subsidiary account")
    parent_crm_id: str = Field(min_length=1, max_length=64, description="Our parent account")


class ParentLinkOut(BaseModel):
    id: int
    child_crm_id: str
    parent_crm_id: str
    child_domain: str = Field(description="Empty: the account has no usable domain, so the link is not used")
    parent_domain: str
    created_by: str
    created_at: UtcDateTime
