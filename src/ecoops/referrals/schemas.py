"""API shapes of referrals."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ecoops.referrals.submission import ReferralInput
from ecoops.web.fields import UtcDateTime


class ReferralIn(BaseModel):
    """A referral as typed; the service checks and trims every field."""

    kind: str = Field(description="eql (a lead) or deal_registration")
    company: str = Field(max_length=2000)
    domain: str = Field("", max_length=2000)
    country: str = Field("", max_length=2000)
    contact_name: str = Field("", max_length=2000)
    contact_email: str = Field("", max_length=2000)
    estimated_value: str = Field("", max_length=100)
    notes: str = Field("", max_length=20_000)

    def to_input(self) -> ReferralInput:
        return ReferralInput(**self.model_dump())


class DecisionIn(BaseModel):
    reason: str = Field("", max_length=10_000)


class StatusChangeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_status: str | None
    to_status: str
    changed_at: UtcDateTime
    changed_by: str
    reason: str


class ReferralOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    direction: str
    kind: str
    partner_id: int
    company: str
    domain: str
    country: str
    contact_name: str
    contact_email: str
    estimated_value: Decimal | None
    notes: str
    status: str
    submitted_via: str
    submitted_by: str
    submitted_at: UtcDateTime
    sla_due_at: UtcDateTime | None
    reason: str
    registration_expires_on: date | None
    account_crm_id: str
    opportunity_crm_id: str
    assigned_seller_id: int | None
    routed_by: str
    conflicts: list[dict[str, Any]]
    history: list[StatusChangeOut]


class PartnerReferralOut(BaseModel):
    """A referral as its partner sees it in the portal: no conflicts (they name other partners), no seller."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    direction: str = Field(description="inbound (the partner sent it to us) or outbound (we sent it)")
    kind: str
    company: str
    domain: str
    country: str
    contact_name: str
    contact_email: str
    estimated_value: Decimal | None
    notes: str
    status: str
    submitted_via: str
    submitted_at: UtcDateTime
    sla_due_at: UtcDateTime | None = Field(description="for an outbound referral: answer by then")
    reason: str
    registration_expires_on: date | None
    opportunity_crm_id: str
    history: list[StatusChangeOut]


class AnswerIn(BaseModel):
    """The partner's answer to one of our outbound referrals."""

    accept: bool
    reason: str = Field("", max_length=2000)


class ReferralPageOut(BaseModel):
    items: list[ReferralOut]
    total: int
    page: int
    per_page: int


class SuggestionOut(BaseModel):
    partner_id: int
    partner_name: str
    score: float
    reasons: list[str]
