"""Property: for random rules and data, `visible` never returns more than the rule allows: no hidden
population, no account under counts only, only overlapping accounts under "overlapping", only the
population's own accounts, and no field the rule leaves out."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from ecoops.mapping.models import SharingLevel
from ecoops.mapping.overlaps import OverlapRow
from ecoops.mapping.sharing import SHAREABLE_FIELDS, Rule, visible

KEYS = ("customers", "open_opportunities", "prospects", "custom-1")
ACCOUNT_IDS = [f"A{n}" for n in range(12)]


def _overlap(crm_id: str, theirs: str) -> OverlapRow:
    return OverlapRow(crm_id, "", "", 0, Decimal(0), "T" + crm_id, "", theirs, {}, "domain", 1.0, {}, ())


rules = st.dictionaries(
    st.sampled_from(KEYS),
    st.builds(
        Rule,
        st.sampled_from(list(SharingLevel)),
        st.lists(st.sampled_from(SHAREABLE_FIELDS), unique=True).map(tuple),
    ),
)
memberships = st.fixed_dictionaries({k: st.sets(st.sampled_from(ACCOUNT_IDS)) for k in KEYS})
overlaps = st.lists(st.tuples(st.sampled_from(ACCOUNT_IDS), st.sampled_from(["Customers", "Prospects"])))


@settings(max_examples=300, deadline=None)
@given(rules=rules, members=memberships, pairs=overlaps)
def test_nothing_beyond_the_rule_is_returned(
    rules: dict[str, Rule], members: dict[str, set[str]], pairs: list[tuple[str, str]]
) -> None:
    # Every value is unique to its account and field, so where it shows up says what leaked.
    accounts = {a: {f: f"{a}:{f}" for f in SHAREABLE_FIELDS} for a in ACCOUNT_IDS}
    names = {k: k.title() for k in KEYS}
    overlapping = {a for a, _ in pairs}
    shown = visible(rules, names, members, accounts, [_overlap(a, t) for a, t in pairs])

    for population in shown:
        rule = rules.get(population.key, Rule())
        assert rule.level != SharingLevel.HIDDEN
        assert population.level == rule.level
        if rule.level == SharingLevel.COUNTS:
            assert population.accounts == []
        allowed_accounts = members[population.key] & (
            overlapping if rule.level == SharingLevel.OVERLAPPING else set(ACCOUNT_IDS)
        )
        for row in population.accounts:
            assert set(row) <= {*rule.fields, "overlaps"}
            for name in rule.fields:
                account, field = row[name].split(":")
                assert field == name and account in allowed_accounts
        assert sum(population.counts.values()) <= len(members[population.key]) * 2
        assert set(population.counts) <= {t for a, t in pairs if a in members[population.key]}
    assert {p.key for p in shown} == {k for k, r in rules.items() if r.level != SharingLevel.HIDDEN}
