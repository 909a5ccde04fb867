"""Our populations: the built-in ones from won, open and no opportunities, custom filters on account
and opportunity fields, and the filter language refusing what it does not know."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from ecoops.accounts.service import InvalidInput
from ecoops.actors import SYSTEM
from ecoops.mapping import populations
from tests.factories import make_account, make_opportunity
from tests.mapping.test_mapping_runs import our_accounts


def conditions(*items: dict[str, Any]) -> dict[str, Any]:
    return {"conditions": list(items)}


@pytest.mark.all_backends
def test_built_in_and_custom_memberships(session: Session) -> None:
    our_accounts(session)
    make_account(session, crm_id="A6", name="Wayne", domain="wayne.com", country="DE", employees=900)
    make_opportunity(session, account_crm_id="A6", is_closed=True, is_won=False, amount=90000, stage="Lost")
    big_open = conditions(
        {"field": "opportunity.amount", "op": "gte", "value": 1000},
        {"field": "opportunity.is_closed", "op": "eq", "value": False},
    )
    german = conditions(
        {"field": "account.country", "op": "in", "value": ["de", "AT"]},
        {"field": "account.employees", "op": "gte", "value": 500},
    )
    created = populations.create_population(session, SYSTEM, name="Big open deals", filter=big_open)
    populations.create_population(session, SYSTEM, name="German mid-size", filter=german)

    members = populations.memberships(session)
    assert members["customers"] == {"A1", "A4"}
    assert members["open_opportunities"] == {"A2", "A4"}
    assert members["prospects"] == {"A3", "A5", "A6"}  # a lost deal leaves a prospect
    assert members[f"custom-{created.id}"] == {"A2"}  # Umbrella's open deal is 700
    assert list(populations.population_names(session).values()) == [
        "Customers",
        "Open Opportunities",
        "Prospects",
        "Big open deals",
        "German mid-size",
    ]
    german_key = next(k for k, n in populations.population_names(session).items() if n == "German mid-size")
    assert members[german_key] == {"A6"}


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ({"conditions": []}, "at least 1"),
        (conditions({"field": "account.website", "op": "eq", "value": "x"}), "conditions.0.field"),
        (conditions({"field": "account.name", "op": "gte", "value": 3}), "gte needs a number field"),
        (conditions({"field": "opportunity.is_won", "op": "eq", "value": "yes"}), "true or false"),
        (conditions({"field": "account.country", "op": "in", "value": "DE"}), "op in takes a list"),
        ({"conditions": [], "sql": "1=1"}, "sql"),
    ],
)
def test_the_filter_language_refuses_what_it_does_not_know(given: dict[str, Any], says: str) -> None:
    with pytest.raises(InvalidInput, match=says):
        populations.parse_filter(given)


def test_names_are_unique_and_not_a_built_in_one(session: Session) -> None:
    one = conditions({"field": "account.country", "op": "eq", "value": "US"})
    populations.create_population(session, SYSTEM, name="US", filter=one)
    for name in ("us", "Customers", " "):
        with pytest.raises(InvalidInput):
            populations.create_population(session, SYSTEM, name=name, filter=one)
