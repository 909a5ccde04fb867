"""Pydantic shapes of accounts, opportunities (with their stage history) and contacts for the API."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict


class AccountOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    crm_id: str
    name: str
    website: str
    domain: str
    country: str
    industry: str
    account_type: str
    owner: str
    parent_crm_id: str
    employees: int | None
    created_on: date | None


class OpportunityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    crm_id: str
    account_crm_id: str
    name: str
    stage: str
    amount: Decimal | None
    currency: str
    original_amount: Decimal | None
    created_on: date | None
    close_date: date | None
    is_closed: bool
    is_won: bool
    owner: str
    opportunity_type: str
    lead_source: str
    partner_source: str


class OpportunityStageChangeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    stage: str
    changed_on: date
    amount: Decimal | None
    is_closed: bool | None
    is_won: bool | None


class OpportunityDetailOut(OpportunityOut):
    stage_changes: list[OpportunityStageChangeOut]


class ContactOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    crm_id: str
    account_crm_id: str
    first_name: str
    last_name: str
    email: str
    title: str
    phone: str
