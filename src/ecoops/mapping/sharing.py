"""Sharing rules and what a partner may see: the one place that decides it (`shared_view`).

Per partner and our population, a level (hidden, counts only, overlapping accounts, all accounts)
and the account fields shown; a rule with no partner is the default for partners without their own.
With neither, a population is hidden. `visible` is a pure function of the rules and the data, so the
property test can check it on random inputs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from ecoops import audit
from ecoops.accounts.service import InvalidInput
from ecoops.actors import Actor, ActorKind
from ecoops.audit import utcnow
from ecoops.crm.models import Account
from ecoops.mapping.models import SharingLevel, SharingRule
from ecoops.mapping.overlaps import OverlapRow, heat_level, overlap_rows, partner_or_404
from ecoops.mapping.populations import memberships, population_names
from ecoops.permissions import NotFound, Permission, require

SHAREABLE_FIELDS = ("name", "domain", "country", "industry", "owner")


@dataclass(frozen=True)
class Rule:
    level: SharingLevel = SharingLevel.HIDDEN
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class SharedPopulation:
    """One of our populations as the partner sees it."""

    key: str
    name: str
    level: SharingLevel
    counts: dict[str, int]  # the partner's population → our accounts in both
    accounts: list[dict[str, str]] = field(default_factory=list)  # only the rule's fields (+ overlap)


@dataclass(frozen=True)
class SharedCounts:
    """What `shared_view` returned, its counts laid out as a heat matrix (our shown populations by the
    partner's): nothing beyond what the partner already sees."""

    shown: list[SharedPopulation]

    @property
    def their_populations(self) -> list[str]:
        return sorted({theirs for population in self.shown for theirs in population.counts})

    @property
    def largest(self) -> int:
        return max((n for population in self.shown for n in population.counts.values()), default=0)

    def heat(self, count: int) -> int:
        return heat_level(count, self.largest)


def rules_for(session: Session, partner_id: int | None) -> dict[str, Rule]:
    """Population key → the rule in force for the partner (its own, else the default); None: defaults."""
    found: dict[str, Rule] = {}
    for owner in (None, partner_id) if partner_id is not None else (None,):
        for rule in session.scalars(select(SharingRule).where(_owner_is(owner))):
            found[rule.population] = Rule(SharingLevel(rule.level), tuple(rule.fields))
    return found


def _owner_is(partner_id: int | None) -> ColumnElement[bool]:
    return SharingRule.partner_id.is_(None) if partner_id is None else SharingRule.partner_id == partner_id


def set_rules(
    session: Session, actor: Actor, partner_id: int | None, rules: Mapping[str, Rule]
) -> dict[str, Rule]:
    """Save the partner's rules (or the defaults, partner_id None) for the populations given."""
    require(actor, Permission.MANAGE_MAPPING)
    if partner_id is not None:
        partner_or_404(session, partner_id)
    known = population_names(session)
    existing = {r.population: r for r in session.scalars(select(SharingRule).where(_owner_is(partner_id)))}
    for key, rule in rules.items():
        if key not in known:
            raise InvalidInput(f"no population {key!r}")
        unknown = set(rule.fields) - set(SHAREABLE_FIELDS)
        if unknown:
            raise InvalidInput(f"fields that cannot be shared: {', '.join(sorted(unknown))}")
        row = existing.get(key) or SharingRule(partner_id=partner_id, population=key)
        row.level = rule.level.value
        row.fields = [f for f in SHAREABLE_FIELDS if f in rule.fields]
        row.updated_by, row.updated_at = actor.label, utcnow()
        session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "mapping.sharing_updated",
        "partner" if partner_id is not None else "sharing_defaults",
        partner_id,
        rules={key: {"level": r.level.value, "fields": list(r.fields)} for key, r in rules.items()},
    )
    return rules_for(session, partner_id)


def visible(
    rules: Mapping[str, Rule],
    names: Mapping[str, str],
    members: Mapping[str, set[str]],
    accounts: Mapping[str, Mapping[str, str]],
    overlaps: list[OverlapRow],
) -> list[SharedPopulation]:
    """What the rules let a partner see of the data: nothing of a hidden population, counts only, the
    overlapping accounts, or all accounts of the population, each with only the rule's fields."""
    overlapping: dict[str, set[str]] = defaultdict(set)  # our account → their populations
    for row in overlaps:
        overlapping[row.our_crm_id].add(row.their_population)
    shown = []
    for key, name in names.items():
        rule = rules.get(key, Rule())
        if rule.level == SharingLevel.HIDDEN:
            continue
        inside = members.get(key, set())
        counts: dict[str, int] = defaultdict(int)
        for crm_id in inside:
            for theirs in overlapping.get(crm_id, ()):
                counts[theirs] += 1
        listed = (
            sorted(inside & overlapping.keys())
            if rule.level == SharingLevel.OVERLAPPING
            else sorted(inside)
            if rule.level == SharingLevel.ALL
            else []
        )
        rows = [
            {f: accounts.get(crm_id, {}).get(f, "") for f in rule.fields}
            | {"overlaps": "yes" if crm_id in overlapping else "no"}
            for crm_id in listed
        ]
        shown.append(SharedPopulation(key, name, rule.level, dict(sorted(counts.items())), rows))
    return shown


def shared_fields(rules: Mapping[str, Rule], populations: Iterable[str]) -> tuple[str, ...]:
    """Our fields of one overlapping account the partner may see: those of each rule that lists the
    account (overlapping or all accounts) among the populations it is in; counts or hidden list none."""
    listed = (rules.get(key, Rule()) for key in populations)
    fields = {
        f
        for rule in listed
        if rule.level in (SharingLevel.OVERLAPPING, SharingLevel.ALL)
        for f in rule.fields
    }
    return tuple(f for f in SHAREABLE_FIELDS if f in fields)


def shared_view(session: Session, actor: Actor, partner_id: int) -> list[SharedPopulation]:
    """Everything the partner may see of our accounts, per population: the API, the preview and any
    partner-facing page go through here."""
    if actor.kind == ActorKind.PARTNER_USER:
        if actor.partner_id != partner_id:  # another partner's view: as if it did not exist
            raise NotFound(f"no partner {partner_id}")
    else:
        require(actor, Permission.READ_MAPPING)
    partner_or_404(session, partner_id)
    rules = rules_for(session, partner_id)
    members = memberships(session)
    overlaps = overlap_rows(session, partner_id, members)
    # Every account's shareable fields (a few columns), not a list of ids, which can outgrow what
    # SQLite takes as parameters; `visible` picks what the rules let through.
    columns = [getattr(Account, f) for f in SHAREABLE_FIELDS]
    accounts = {
        crm_id: {f: str(v or "") for f, v in zip(SHAREABLE_FIELDS, values, strict=True)}
        for crm_id, *values in session.execute(select(Account.crm_id, *columns))
    }
    return visible(rules, population_names(session), members, accounts, overlaps)
