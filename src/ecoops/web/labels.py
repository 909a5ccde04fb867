"""The one readable label of each internal value pages show: kinds, classes, evidence, column names.

Templates write `value|label`; a value without an entry reads with its underscores as spaces, so a new
internal value is never shown raw, and one that needs more than that gets its entry here.
"""

from __future__ import annotations

from typing import Any

from ecoops.mapping.populations import BUILT_IN as OUR_POPULATIONS

LABELS: dict[str, str] = {
    # Touch kinds (attribution.models.TouchKind) and the evidence behind a touch
    "co_sell": "co-sell",
    "crm_source": "CRM partner field",
    "deal_registration": "deal registration",
    "overlap": "account overlap",
    "crm_field": "CRM field",
    "partner_source": "partner source",
    "overlap_period": "overlap period",
    "marketplace_order": "marketplace order",
    # Referral kinds (referrals.models.Kind) and how a referral reached a seller
    "eql": "referral (lead)",
    "intro": "intro request",
    "round_robin": "round robin",
    "account_owner": "account owner",
    # A partner contact's role (accounts.models.ContactRole)
    "cs": "customer success",
    "exec": "executive",
    # Our populations, named as the mapping pages name them
    **OUR_POPULATIONS,
    # Figure columns (metrics) that are more than words joined by underscores
    "crm_id": "CRM id",
    "account_crm_id": "account",
    "opportunity_crm_id": "opportunity",
    "first_won_opportunity_crm_id": "first won opportunity",
    "partner_population": "partner's population",
    "our_populations": "our populations",
    "eqls": "EQLs",
    "sqls": "SQLs",
    "eql_value": "EQL value",
    "eql_to_sql_conversion": "EQL → SQL conversion",
    "sql_opportunities": "SQL opportunities",
    "sql_amount": "SQL amount",
    "first_touch": "first touch",
    "last_touch": "last touch",
    "time_decay": "time decay",
}

# Figure columns whose values are internal values too (a touch's kind, a model): their cells are labelled.
CODED_COLUMNS = frozenset(
    {"kind", "model", "record", "classification", "touch_class", "our_population", "partner_population"}
)


def label(value: Any, keep_unknown: bool = False) -> str:
    """How a page names `value` (an enum member reads as its value).

    `keep_unknown` leaves a value without an entry as it is: a name from outside, such as a CRM's
    `Partner__c` field, is shown the way its owners write it.
    """
    text = str(getattr(value, "value", value))
    return LABELS.get(text, text if keep_unknown else text.replace("_", " "))
