"""On random scenarios, every engine figure equals the plain-Python reference reading of METRICS.md."""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecoops.engines.metrics import Filters, Period, dashboard, take_snapshot
from ecoops.engines.metrics.inputs import INFLUENCE_KINDS, PARTNER_STAGES, SOURCING_KINDS
from tests.engines.metrics.factories import Scenario, rows_by
from tests.engines.metrics.reference import Config, Reference

START = date(2023, 1, 1)
SPAN = 360
ACCOUNTS = ("A1", "A2", "A3", "A4")
PARTNER_IDS = (1, 2, 3, 4)
TARGET = 10_000.0

days = st.integers(0, SPAN).map(lambda n: START + timedelta(n))
amounts = st.one_of(st.none(), st.sampled_from([100.0, 250.0, 1000.0, 3333.33]))


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    s = Scenario()
    for n in range(draw(st.integers(0, 12))):
        crm_id = f"O{n}"
        created = START + timedelta(draw(st.integers(0, SPAN * 2 // 3)))
        outcome = draw(st.sampled_from(["open", "won", "won", "lost"]))
        close = created + timedelta(draw(st.integers(0, 120)))
        fields = {
            "account_crm_id": draw(st.sampled_from(ACCOUNTS)),
            "amount": draw(amounts),
            "owner": draw(st.sampled_from(["alice", "bob"])),
        }
        if outcome == "open":
            s.opportunity(crm_id, created, **fields)
        else:
            (s.won if outcome == "won" else s.lost)(crm_id, created, close, **fields)
        # A history, sometimes closing and reopening on the way, sometimes several changes on one day;
        # most end as the record does, some say otherwise (the history then decides).
        when = created
        for step in range(steps := draw(st.integers(0, 4))):
            when += timedelta(draw(st.integers(0, 40)))
            if step == steps - 1 and draw(st.integers(0, 3)):
                closed, won = outcome != "open", outcome == "won"
            else:
                closed = draw(st.integers(0, 3)) == 0
                won = closed and draw(st.booleans())
            s.stage(
                crm_id,
                draw(st.sampled_from(["Discovery", "Proposal", "Closed"])),
                when,
                closed=closed,
                won=won,
            )
    kinds = (*SOURCING_KINDS, *INFLUENCE_KINDS, "delivery")
    # Touches cluster around their opportunity's creation, where the grace and look-back rules bite.
    for _ in range(draw(st.integers(0, 30))):
        # Half the touches crowd onto the first two deals, so multi-touch credit gets exercised.
        crowded = s.opportunities[:2] if draw(st.booleans()) else s.opportunities
        target = draw(st.sampled_from(crowded or [{"crm_id": "missing", "created_on": START}]))
        on_account = draw(st.integers(0, 3)) == 0
        s.touch(
            draw(st.sampled_from(PARTNER_IDS)),
            "" if on_account else target["crm_id"],
            draw(st.sampled_from(kinds)),
            target["created_on"] + timedelta(draw(st.integers(-100, 130)) // (1 + draw(st.integers(0, 2)))),
            account_crm_id=target.get("account_crm_id") or draw(st.sampled_from(ACCOUNTS)),
            status=draw(st.sampled_from(["confirmed"] * 6 + ["proposed", "disputed"])),
        )
    for partner_id in PARTNER_IDS[: draw(st.integers(0, len(PARTNER_IDS)))]:
        when = draw(days)
        moves = []
        for stage in draw(st.lists(st.sampled_from(PARTNER_STAGES), max_size=6)):
            when += timedelta(draw(st.integers(0, 120)))
            moves.append((stage, when))
        s.partner(
            partner_id,
            *moves,
            partner_type=draw(st.sampled_from(["technology", "reseller"])),
            owner_id=draw(st.sampled_from([1, 2, None])),
            programs=tuple(
                (p, draw(st.sampled_from([None, 1, 2]))) for p in draw(st.sets(st.sampled_from([100, 200])))
            ),
        )
    for _ in range(draw(st.integers(0, 6))):
        s.referral(
            draw(st.sampled_from(PARTNER_IDS)),
            draw(st.sampled_from(["in", "out"])),
            draw(days),
            draw(amounts),
            draw(st.sampled_from([None, "missing", *[o["crm_id"] for o in s.opportunities]])),
        )
    for _ in range(draw(st.integers(0, 8))):
        began = draw(days)
        ended = draw(st.one_of(st.none(), st.integers(0, 300).map(lambda n, b=began: b + timedelta(n))))
        s.overlap(
            draw(st.sampled_from(ACCOUNTS)),
            draw(st.sampled_from(PARTNER_IDS)),
            began,
            ended,
            our_population=draw(st.sampled_from(["prospects", "open_opportunities", "customers"])),
            partner_population=draw(st.sampled_from(["customers", "prospects"])),
        )
    return s


@st.composite
def configs(draw: st.DrawFn) -> Config:
    # Periods and dates mostly late and wide, where most records are visible and closed.
    first = START + timedelta(draw(st.integers(0, SPAN)) // 2)
    last = START + timedelta(SPAN - draw(st.integers(0, SPAN)) // 3)
    return Config(
        as_of=max(draw(days), draw(days)),
        start=first,
        end=last,
        filters=Filters(
            partner_ids=tuple(draw(st.sets(st.sampled_from(PARTNER_IDS), max_size=2)))
            if draw(st.booleans())
            else (),
            program_ids=(draw(st.sampled_from([100, 200])),) if draw(st.integers(0, 4)) == 0 else (),
            tier_ids=(draw(st.sampled_from([1, 2])),) if draw(st.integers(0, 4)) == 0 else (),
            partner_types=("reseller",) if draw(st.integers(0, 4)) == 0 else (),
            partner_owner_ids=(1,) if draw(st.integers(0, 4)) == 0 else (),
            opportunity_owners=("alice",) if draw(st.integers(0, 4)) == 0 else (),
        ),
    )


def same(engine: Any, reference: Any) -> bool:
    if isinstance(engine, float) or isinstance(reference, float):
        return (
            engine is not None
            and reference is not None
            and math.isclose(engine, reference, rel_tol=1e-9, abs_tol=1e-9)
        )
    return engine == reference


def assert_same(where: str, engine: dict[str, Any], reference: dict[str, Any]) -> None:
    for name, expected in reference.items():
        assert same(engine[name], expected), (
            f"{where}.{name}: engine {engine[name]!r}, reference {expected!r}"
        )


# Each example builds a snapshot and the whole dashboard (~1 s on a busy 2-core machine).
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios(), config=configs())
def test_every_figure_matches_the_reference(scenario: Scenario, config: Config) -> None:
    filters = config.filters
    got = dashboard(
        take_snapshot(scenario.inputs(), config.as_of), Period(config.start, config.end), TARGET, filters
    )
    ref = Reference(scenario, config)

    assert {r["classification"]: r["opportunities"] for r in got["classification"].figures.to_pylist()} == (
        ref.classification()
    )
    for cls, (count, amount) in ref.revenue().items():
        assert_same(
            f"revenue {cls}",
            rows_by(got["revenue"].figures, "classification")[cls],
            {"won_opportunities": count, "revenue": amount},
        )
    for cls, (count, amount) in ref.pipeline().items():
        assert_same(
            f"pipeline {cls}",
            rows_by(got["pipeline"].figures, "classification")[cls],
            {"open_opportunities": count, "pipeline": amount},
        )

    shares: dict[tuple[str, str], float] = {}
    for row in got["attribution"].records.to_pylist():
        shares[(row["model"], row["opportunity_crm_id"])] = (
            shares.get((row["model"], row["opportunity_crm_id"]), 0) + row["share"]
        )
    if not filters.selects_partners:
        assert all(math.isclose(total, 1.0) for total in shares.values()), shares
    attribution = rows_by(got["attribution"].figures, "model", "partner_id")
    expected_credit = ref.attribution()
    assert set(attribution) == set(expected_credit)
    for key, (count, amount) in expected_credit.items():
        assert_same(
            f"attribution {key}", attribution[key], {"opportunities": count, "attributed_revenue": amount}
        )

    for cls, expected in ref.overlays().items():
        assert_same(f"overlays {cls}", rows_by(got["overlays"].figures, "classification")[cls], expected)
    stage_days = rows_by(got["days_in_stage"].figures, "classification", "stage")
    assert set(stage_days) == set(ref.days_in_stage())
    for key, (visits, mean_days) in ref.days_in_stage().items():
        assert_same(f"days in stage {key}", stage_days[key], {"visits": visits, "mean_days": mean_days})

    assert {r["stage"]: r["partners"] for r in got["partners_per_stage"].figures.to_pylist()} == (
        ref.partners_per_stage()
    )
    assert_same("time to recruit", got["time_to_recruit"].figures.to_pylist()[0], ref.time_to_recruit())
    assert_same("first revenue", got["first_revenue"].figures.to_pylist()[0], ref.first_revenue())
    assert_same("tenure", got["tenure_and_retention"].figures.to_pylist()[0], ref.tenure_and_retention())
    programs = rows_by(got["partners_needed"].figures, "program_id")
    assert set(programs) == set(ref.partners_needed(TARGET))
    for program, expected in ref.partners_needed(TARGET).items():
        assert_same(f"partners needed {program}", programs[program], expected)

    give_get = rows_by(got["give_and_get"].figures, "partner_id")
    assert set(give_get) == set(ref.give_and_get())
    for partner, expected in ref.give_and_get().items():
        assert_same(f"give and get {partner}", give_get[partner], expected)
    assert_same("pre-pipeline", got["eql_pre_pipeline"].figures.to_pylist()[0], ref.eql_pre_pipeline())
    assert_same("funnel", got["eql_funnel"].figures.to_pylist()[0], ref.eql_funnel())
    forecast = rows_by(got["forecast"].figures, "our_population", "partner_id", "partner_population")
    assert set(forecast) == set(ref.forecast())
    for pair, expected in ref.forecast().items():
        assert_same(f"forecast {pair}", forecast[pair], expected)
