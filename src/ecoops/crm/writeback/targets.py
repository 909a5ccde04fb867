"""What ecoops can write to the CRM: one target per value, on accounts or opportunities.

Each target names the CRM object it goes on and the field types that can hold its text (a value is
text: names joined by "; ", a class, an id). The CRM field is the admin's choice (writeback.md).
"""

from __future__ import annotations

from dataclasses import dataclass

ACCOUNT, OPPORTUNITY = "account", "opportunity"
TEXT_TYPES = ("string", "textarea")
# A class or a status can also go to a picklist (its values must then be the picklist's: docs).
WORD_TYPES = (*TEXT_TYPES, "picklist")


@dataclass(frozen=True)
class Target:
    key: str
    record: str  # ACCOUNT | OPPORTUNITY
    label: str
    explain: str
    types: tuple[str, ...]
    example: str  # a custom field name to suggest


TARGETS: dict[str, Target] = {
    t.key: t
    for t in (
        Target(
            "account_partners",
            ACCOUNT,
            "Overlapping partners",
            "the partners whose current account list has this account (mapping), by name",
            TEXT_TYPES,
            "Ecoops_Partners__c",
        ),
        Target(
            "account_populations",
            ACCOUNT,
            "Their populations",
            "each overlapping partner with the population it has this account in (Partner: Customers)",
            TEXT_TYPES,
            "Ecoops_Partner_Populations__c",
        ),
        Target(
            "account_contact",
            ACCOUNT,
            "Best partner contact",
            "an active contact of an overlapping partner: a sales contact first, then who signed in last",
            TEXT_TYPES,
            "Ecoops_Partner_Contact__c",
        ),
        Target(
            "opportunity_class",
            OPPORTUNITY,
            "Partner class",
            "Partner-sourced, Partner-influenced or Direct, as attribution classifies the deal today",
            WORD_TYPES,
            "Ecoops_Partner_Class__c",
        ),
        Target(
            "opportunity_partners",
            OPPORTUNITY,
            "Crediting partners",
            "the partners the class credits: the source partner, or each influencing partner",
            TEXT_TYPES,
            "Ecoops_Crediting_Partners__c",
        ),
        Target(
            "opportunity_referral",
            OPPORTUNITY,
            "Referral / registration id",
            "the id of the latest referral or deal registration linked to the deal",
            TEXT_TYPES,
            "Ecoops_Referral_Id__c",
        ),
        Target(
            "opportunity_referral_status",
            OPPORTUNITY,
            "Referral / registration status",
            "that referral's status (submitted, approved, rejected, …)",
            WORD_TYPES,
            "Ecoops_Referral_Status__c",
        ),
    )
}
