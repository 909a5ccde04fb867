"""Our populations: the three built-in ones and custom ones defined by a small, validated filter.

Built-in (an account may be in Customers and Open Opportunities at once):
- **Customers**: the account has a won opportunity, or its CRM type is `Customer`;
- **Open Opportunities**: the account has an opportunity that is not closed;
- **Prospects**: neither of the above.

A custom filter is a list of conditions, all of which must hold. An `account.*` condition tests the
account; the `opportunity.*` conditions together require one opportunity of the account meeting all
of them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from ecoops import audit
from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor
from ecoops.audit import utcnow
from ecoops.crm.models import Account, Opportunity
from ecoops.mapping.models import Population
from ecoops.permissions import NotFound, Permission, require

CUSTOMERS, OPEN_OPPORTUNITIES, PROSPECTS = "customers", "open_opportunities", "prospects"
BUILT_IN: dict[str, str] = {
    CUSTOMERS: "Customers",
    OPEN_OPPORTUNITIES: "Open Opportunities",
    PROSPECTS: "Prospects",
}
CUSTOM_PREFIX = "custom-"

FilterField = Literal[
    "account.name",
    "account.country",
    "account.industry",
    "account.account_type",
    "account.owner",
    "account.employees",
    "opportunity.stage",
    "opportunity.amount",
    "opportunity.owner",
    "opportunity.opportunity_type",
    "opportunity.is_closed",
    "opportunity.is_won",
]
_COLUMNS: dict[str, InstrumentedAttribute[Any]] = {
    "account.name": Account.name,
    "account.country": Account.country,
    "account.industry": Account.industry,
    "account.account_type": Account.account_type,
    "account.owner": Account.owner,
    "account.employees": Account.employees,
    "opportunity.stage": Opportunity.stage,
    "opportunity.amount": Opportunity.amount,
    "opportunity.owner": Opportunity.owner,
    "opportunity.opportunity_type": Opportunity.opportunity_type,
    "opportunity.is_closed": Opportunity.is_closed,
    "opportunity.is_won": Opportunity.is_won,
}
_NUMERIC = {"account.employees", "opportunity.amount"}
_BOOLEAN = {"opportunity.is_closed", "opportunity.is_won"}


class Condition(BaseModel):
    """One test: `eq`/`ne`/`contains` compare text case-insensitively, `gte`/`lte` numbers, `in` a list."""

    model_config = ConfigDict(extra="forbid")

    field: FilterField
    op: Literal["eq", "ne", "in", "contains", "gte", "lte"]
    value: str | float | bool | list[str]

    def check(self) -> None:
        if self.field in _BOOLEAN and (self.op != "eq" or not isinstance(self.value, bool)):
            raise InvalidInput(f"{self.field} takes op eq and true or false")
        if self.op in ("gte", "lte") and (
            self.field not in _NUMERIC or isinstance(self.value, bool | str | list)
        ):
            raise InvalidInput(f"{self.op} needs a number field (employees, amount) and a number")
        if (self.op == "in") != isinstance(self.value, list):
            raise InvalidInput("op in takes a list of values, and only in does")


class PopulationFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    conditions: list[Condition] = Field(min_length=1, max_length=20)


def parse_filter(raw: object) -> PopulationFilter:
    """A validated filter, or InvalidInput saying what is wrong."""
    try:
        parsed = PopulationFilter.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise InvalidInput(f"invalid population filter: {problems}") from None
    for condition in parsed.conditions:
        condition.check()
    return parsed


def _clause(condition: Condition) -> ColumnElement[bool]:
    column = _COLUMNS[condition.field]
    value = condition.value
    if condition.field in _BOOLEAN or (condition.field in _NUMERIC and condition.op in ("eq", "ne")):
        return column == value if condition.op == "eq" else column != value
    if condition.op == "gte":
        return column >= value
    if condition.op == "lte":
        return column <= value
    text = func.lower(column)
    if condition.op == "in":
        return text.in_([str(v).lower() for v in value] if isinstance(value, list) else [])
    if condition.op == "contains":
        return text.contains(str(value).lower(), autoescape=True)
    return text == str(value).lower() if condition.op == "eq" else text != str(value).lower()


def _custom_where(parsed: PopulationFilter) -> ColumnElement[bool]:
    on_account = [_clause(c) for c in parsed.conditions if c.field.startswith("account.")]
    on_opportunity = [_clause(c) for c in parsed.conditions if c.field.startswith("opportunity.")]
    if on_opportunity:
        on_account.append(exists().where(Opportunity.account_crm_id == Account.crm_id, *on_opportunity))
    return and_(*on_account)


def _has_opportunity(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists().where(Opportunity.account_crm_id == Account.crm_id, *conditions)


def built_in_where(key: str) -> ColumnElement[bool]:
    customer = or_(
        _has_opportunity(Opportunity.is_won.is_(True)), func.lower(Account.account_type) == "customer"
    )
    open_opportunity = _has_opportunity(Opportunity.is_closed.is_(False))
    if key == CUSTOMERS:
        return customer
    if key == OPEN_OPPORTUNITIES:
        return open_opportunity
    return and_(~customer, ~open_opportunity)


def population_names(session: Session) -> dict[str, str]:
    """Every population of ours, key → name: the built-in ones first, then custom ones by name."""
    custom = session.scalars(select(Population).order_by(Population.name))
    return BUILT_IN | {f"{CUSTOM_PREFIX}{p.id}": p.name for p in custom}


def memberships(session: Session) -> dict[str, set[str]]:
    """Population key → the crm_ids of our accounts in it."""
    wheres = {key: built_in_where(key) for key in BUILT_IN}
    for population in session.scalars(select(Population)):
        wheres[f"{CUSTOM_PREFIX}{population.id}"] = _custom_where(parse_filter(population.filter))
    return {key: set(session.scalars(select(Account.crm_id).where(where))) for key, where in wheres.items()}


def create_population(session: Session, actor: Actor, *, name: str, filter: object) -> Population:
    """Save a custom population after validating its filter."""
    require(actor, Permission.MANAGE_MAPPING)
    name = _valid_name(session, name)
    population = Population(
        name=name, filter=parse_filter(filter).model_dump(), created_by=actor.label, updated_at=utcnow()
    )
    session.add(population)
    session.flush()
    audit.record(session, actor, "mapping.population_created", "population", population.id, name=name)
    return population


def update_population(
    session: Session, actor: Actor, population_id: int, *, name: str, filter: object
) -> Population:
    """Rename a custom population or change its filter."""
    require(actor, Permission.MANAGE_MAPPING)
    population = session.get(Population, population_id)
    if population is None:
        raise NotFound(f"no population {population_id}")
    population.name = _valid_name(session, name, population_id)
    population.filter = parse_filter(filter).model_dump()
    population.updated_at = utcnow()
    session.flush()
    audit.record(session, actor, "mapping.population_updated", "population", population.id, name=name)
    return population


def _valid_name(session: Session, name: str, own_id: int | None = None) -> str:
    name = name.strip()
    if not name or len(name) > 120:
        raise InvalidInput("a population needs a name of at most 120 characters")
    taken = session.scalar(select(Population.id).where(func.lower(Population.name) == name.lower()))
    if name.lower() in {n.lower() for n in BUILT_IN.values()} or taken not in (None, own_id):
        raise InvalidInput(f"there is already a population called {name!r}")
    return name
