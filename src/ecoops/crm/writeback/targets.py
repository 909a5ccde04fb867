"""What ecoops can write to the CRM: one target per value, on accounts or opportunities.

Each target names the record it goes on and whether a pick-list may hold it (a value is text: names
joined by "; ", a class, an id; a class or a status is also one of a few words). The CRM field is the
admin's choice; each CRM says which of its field types fit (crm/<provider>/writeback.py) and suggests
a name from the target's `stem`.
"""

from __future__ import annotations

from dataclasses import dataclass

ACCOUNT, OPPORTUNITY = "account", "opportunity"
TEXT, WORD = False, True  # a WORD (a class, a status) may also go to a pick-list whose values are those


@dataclass(frozen=True)
class Target:
    key: str
    record: str  # ACCOUNT | OPPORTUNITY
    label: str
    explain: str
    choice: bool  # TEXT | WORD
    stem: str  # the suggested field's name, in words: "partner_class" → Ecoops_Partner_Class__c


TARGETS: dict[str, Target] = {
    t.key: t
    for t in (
        Target(
            "account_partners",
            ACCOUNT,
            "Overlapping partners",
            "the partners whose current account list has this account (mapping), by name",
            TEXT,
            "partners",
        ),
        Target(
            "account_populations",
            ACCOUNT,
            "Their populations",
            "each overlapping partner with the population it has this account in (Partner: Customers)",
            TEXT,
            "partner_populations",
        ),
        Target(
            "account_contact",
            ACCOUNT,
            "Best partner contact",
            "an active contact of an overlapping partner: a sales contact first, then who signed in last",
            TEXT,
            "partner_contact",
        ),
        Target(
            "opportunity_class",
            OPPORTUNITY,
            "Partner class",
            "Partner-sourced, Partner-influenced or Direct, as attribution classifies the deal today",
            WORD,
            "partner_class",
        ),
        Target(
            "opportunity_partners",
            OPPORTUNITY,
            "Crediting partners",
            "the partners the class credits: the source partner, or each influencing partner",
            TEXT,
            "crediting_partners",
        ),
        Target(
            "opportunity_referral",
            OPPORTUNITY,
            "Referral / registration id",
            "the id of the latest referral or deal registration linked to the deal",
            TEXT,
            "referral_id",
        ),
        Target(
            "opportunity_referral_status",
            OPPORTUNITY,
            "Referral / registration status",
            "that referral's status (submitted, approved, rejected, …)",
            WORD,
            "referral_status",
        ),
    )
}
