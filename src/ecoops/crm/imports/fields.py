"""What each kind of import reads: its fields, which are required, and what each field is."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    ACCOUNTS = "accounts"
    OPPORTUNITIES = "opportunities"
    STAGE_HISTORY = "stage_history"
    CONTACTS = "contacts"
    PARTNERS = "partners"
    TOUCHES = "touches"


@dataclass(frozen=True)
class Field:
    """One thing an import can read from a column, e.g. an opportunity's close date."""

    name: str
    help: str
    required: bool = False


KIND_FIELDS: dict[Kind, tuple[Field, ...]] = {
    Kind.ACCOUNTS: (
        Field("crm_id", "the CRM's id of the account", required=True),
        Field("name", "company name", required=True),
        Field("website", "website; the domain is taken from it when there is no domain column"),
        Field("domain", "web domain"),
        Field("country", "country"),
        Field("industry", "industry"),
        Field("account_type", "type (customer, prospect, …)"),
        Field("owner", "account owner"),
        Field("parent_crm_id", "the parent account's CRM id"),
        Field("employees", "number of employees"),
        Field("created_on", "date created"),
    ),
    Kind.OPPORTUNITIES: (
        Field("crm_id", "the CRM's id of the opportunity", required=True),
        Field("stage", "stage name", required=True),
        Field("account_crm_id", "the account's CRM id"),
        Field("name", "opportunity name"),
        Field("amount", "amount, in the record's currency"),
        Field("currency", "the record's currency (ISO code)"),
        Field("amount_converted", "amount already converted to the workspace currency"),
        Field("exchange_rate", "workspace-currency units per one unit of the record's currency"),
        Field("created_on", "date created"),
        Field("close_date", "close date"),
        Field("is_closed", "closed? (else told by the stage name)"),
        Field("is_won", "won? (else told by the stage name)"),
        Field("owner", "opportunity owner"),
        Field("opportunity_type", "type (new business, renewal, …)"),
        Field("lead_source", "lead source"),
        Field("partner_source", "the CRM's partner-source field"),
    ),
    Kind.STAGE_HISTORY: (
        Field("opportunity_crm_id", "the opportunity's CRM id", required=True),
        Field("stage", "the stage entered", required=True),
        Field("changed_on", "the date the stage was entered", required=True),
        Field("amount", "amount at that time"),
        Field("history_field", "which field changed (field-history exports; only stage changes are read)"),
    ),
    Kind.CONTACTS: (
        Field("crm_id", "the CRM's id of the contact", required=True),
        Field("account_crm_id", "the account's CRM id"),
        Field("first_name", "first name"),
        Field("last_name", "last name"),
        Field("email", "e-mail address"),
        Field("title", "job title"),
        Field("phone", "phone number"),
    ),
    Kind.PARTNERS: (
        Field("name", "partner name", required=True),
        Field("crm_id", "the CRM's id of the partner (else partners are matched by name)"),
        Field("partner_type", "technology, reseller, referral, agency, marketplace, …"),
        Field("program", "program (created when new)"),
        Field("tier", "tier within the program (created when new)"),
        Field("owner", "partner manager: a user's e-mail or name"),
        Field("stage", "life-cycle stage (prospect … producing, churned)"),
        Field("stage_since", "date the partner entered that stage"),
        Field("website", "website"),
        Field("domain", "web domain"),
        Field("country", "country (name or two-letter code)"),
        Field("description", "description"),
    ),
    Kind.TOUCHES: (
        Field("external_id", "your own id of the touch (a file imported again adds it once)", required=True),
        Field("partner", "the partner: its CRM id or its name", required=True),
        Field(
            "kind",
            "referral, deal registration, crm source, co-sell, content, marketplace, delivery",
            required=True,
        ),
        Field("touched_on", "the day it happened", required=True),
        Field("opportunity_crm_id", "the opportunity's CRM id"),
        Field("account_crm_id", "the account's CRM id (for a touch on no one opportunity)"),
        Field("note", "what happened"),
        Field("status", "proposed (the default: waits for review) or confirmed"),
    ),
}


def field_names(kind: Kind) -> tuple[str, ...]:
    return tuple(field.name for field in KIND_FIELDS[kind])


def required_fields(kind: Kind) -> tuple[str, ...]:
    return tuple(field.name for field in KIND_FIELDS[kind] if field.required)
