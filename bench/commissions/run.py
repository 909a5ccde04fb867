"""Benchmark of commission accruals: a period's lines over 1M opportunities, 2M touches and 500 partners,
beside a pandas implementation of the same plans, in the same run.

The metrics benchmark's generator (bench/metrics/metrics_data.py) writes the records to Parquet once.
The engine then, in its own process: reads them, takes the metrics snapshot as of 31 Dec 2024, takes
each partner's credit on every won deal under the workspace's attribution model (linear), and computes
the plans' lines set-based in DuckDB (ecoops.commissions.engine). pandas, in its own process, applies the
same plans to the same credits (written by the engine run, outside its timing). Both report the lines'
count and totals per plan and for Q4 2024, which must be equal to the cent. Goals for the engine's
whole computation: ≤ 5 s and ≤ 2 GB peak memory.

    .venv/bin/python bench/commissions/run.py [--scale 1.0] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench" / "metrics"))

import metrics_data  # noqa: E402 - found through the path above

from ecoops.commissions import engine  # noqa: E402
from ecoops.commissions.plans import paid_partners  # noqa: E402

OUT = ROOT / "bench" / "out"
GOAL_SECONDS, GOAL_MEMORY_MB = 5.0, 2048
MODEL = "linear"
YEAR, Q4 = date(2024, 1, 1), date(2024, 10, 1)
M = 100  # cents per unit
# plan id, program, tier, override partner, kind, basis, months, bounty, cap per deal, per month, valid
PLANS: list[tuple[Any, ...]] = [
    (1, 1, None, None, "percent", "sourced", 0, None, 20_000 * M, None, YEAR, None),
    (2, 2, None, None, "percent", "influenced", 12, None, None, 5_000 * M, YEAR, None),
    (3, 3, 21, None, "percent", "any", 0, None, None, None, date(2024, 7, 1), date(2024, 12, 31)),
    (4, 4, None, None, "bounty", "any", 0, 100 * M, None, 2_000 * M, YEAR, None),
    *[(4 + p, 1, None, p, "percent", "sourced", 0, None, None, None, YEAR, None) for p in range(1, 11)],
]
RATES = [(1, 0, 80_000), (1, 50_000 * M, 100_000), (2, 0, 30_000), (3, 0, 50_000)] + [
    (4 + p, 0, 120_000) for p in range(1, 11)
]


def plan_inputs(memberships: pa.Table) -> dict[str, pa.Table]:
    """The plans: tiered sourced, recurring influenced with a monthly cap, a tier's half-year plan, a
    bounty per inbound referral, and overrides for ten partners."""
    names = [
        "plan_id",
        "program",
        "tier",
        "partner",
        "kind",
        "basis",
        "months",
        "bounty_cents",
        "cap_deal_cents",
        "cap_period_cents",
        "valid_from",
        "valid_to",
    ]
    rows = [dict(zip(names, plan, strict=True)) for plan in PLANS]
    pairs = paid_partners(
        [(r["plan_id"], r["program"], r["tier"], r["partner"]) for r in rows],
        [(m["partner_id"], m["program_id"], m["tier_id"], None, None) for m in memberships.to_pylist()],
    )
    return {
        "plans": pa.Table.from_pylist(rows).select(engine.PLANS.names).cast(engine.PLANS),
        "rates": pa.Table.from_pylist(
            [dict(zip(engine.RATES.names, r, strict=True)) for r in RATES], schema=engine.RATES
        ),
        "plan_partners": pa.Table.from_pylist(
            [
                {"plan_id": plan, "partner_id": partner, "held_from": since, "held_until": until}
                for plan, partner, since, until in pairs
            ],
            schema=engine.PLAN_PARTNERS,
        ),
    }


def bounties(referrals: pa.Table) -> pa.Table:
    """Every inbound referral counts as approved on the day it came in."""
    inbound = referrals.filter(pc.equal(referrals["direction"], "in"))
    return pa.table(
        {
            "subject": pc.binary_join_element_wise(
                "referral:", pc.cast(inbound["referral_id"], pa.string()), ""
            ),
            "partner_id": inbound["partner_id"],
            "credit": pa.array(["referral"] * inbound.num_rows),
            "approved_on": inbound["created_on"],
        },
        schema=engine.BOUNTIES,
    )


def summary(lines: list[tuple[int, date, int]]) -> dict[str, int]:
    """Count and cents per plan, and for Q4, from (plan id, earned on, cents) rows."""
    out: dict[str, int] = {"lines": len(lines), "total_cents": 0, "q4_cents": 0}
    for plan, earned, cents in lines:
        out["total_cents"] += cents
        out[f"plan_{plan}_cents"] = out.get(f"plan_{plan}_cents", 0) + cents
        if earned >= Q4:
            out["q4_cents"] += cents
    return out


def run_engine(folder: Path, credits_file: Path) -> dict[str, Any]:
    from ecoops.engines.metrics import take_snapshot, validate_inputs

    started = time.perf_counter()
    tables = metrics_data.read(folder)
    loaded, cpu = time.perf_counter(), time.process_time()
    inputs = validate_inputs(**tables)
    snapshot = take_snapshot(inputs, metrics_data.AS_OF)
    snapped = time.perf_counter()
    credits = engine.credits_from_snapshot(snapshot, MODEL)
    credited = time.perf_counter()
    plan_tables = plan_inputs(tables["memberships"])
    found = engine.accrual_lines(
        snapshot.connection,
        metrics_data.AS_OF,
        credits=credits,
        bounties=bounties(tables["referrals"]),
        **plan_tables,
    )
    done, cpu_used = time.perf_counter(), time.process_time() - cpu
    pq.write_table(credits, credits_file)
    rows = zip(*(found[c].to_pylist() for c in ("plan_id", "earned_on", "amount_cents")), strict=True)
    return {
        "load_s": loaded - started,
        "compute_s": done - loaded,
        "compute_cpu_s": cpu_used,
        "plans_s": done - credited,
        "phases": {"snapshot": snapped - loaded, "credits": credited - snapped, "plans": done - credited},
        "credits": credits.num_rows,
        "summary": summary(list(rows)),
    }


def run_pandas(folder: Path, credits_file: Path) -> dict[str, Any]:
    import pandas_commissions

    started = time.perf_counter()
    tables = {name: pq.read_table(folder / f"{name}.parquet") for name in ("referrals", "memberships")}
    credits = pq.read_table(credits_file)
    loaded = time.perf_counter()
    found = pandas_commissions.lines(
        metrics_data.AS_OF, credits, bounties(tables["referrals"]), **plan_inputs(tables["memberships"])
    )
    done = time.perf_counter()
    earned = [day.date() for day in found["earned_on"]]
    rows = zip(found["plan_id"].tolist(), earned, found["amount_cents"].tolist(), strict=True)
    return {"load_s": loaded - started, "plans_s": done - loaded, "summary": summary(list(rows))}


def in_own_process(worker: str, folder: Path, credits_file: Path) -> dict[str, Any]:
    """Run one implementation in a child process; add its peak resident memory."""
    child = subprocess.Popen(
        [sys.executable, __file__, "--worker", worker, "--data", str(folder), "--credits", str(credits_file)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"the {worker} run failed")
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    result["peak_mb"] = usage.ru_maxrss / 1024  # Linux reports kilobytes
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 1M opportunities (default)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--worker", choices=["engine", "pandas"], help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--credits", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        run = run_engine if args.worker == "engine" else run_pandas
        print(json.dumps(run(args.data, args.credits)))
        return

    folder = OUT / "metrics" / f"scale-{args.scale:g}-seed-{args.seed}"
    if not (folder / "opportunities.parquet").exists():
        started = time.perf_counter()
        metrics_data.write(metrics_data.generate(args.scale, args.seed), folder)
        print(f"generated {folder.relative_to(ROOT)} in {time.perf_counter() - started:.1f} s")
    credits_file = OUT / "commissions" / f"credits-{args.scale:g}-{args.seed}.parquet"
    credits_file.parent.mkdir(parents=True, exist_ok=True)
    sizes = metrics_data.sizes(args.scale)
    print(
        f"inputs: {sizes['opportunities']:,} opportunities, {sizes['touches']:,} touches, "
        f"{metrics_data.PARTNERS} partners, {len(PLANS)} plans; accruals as of {metrics_data.AS_OF}, "
        f"{MODEL} attribution"
    )
    # Other work on the machine slows the wall clock; CPU seconds show the work itself.
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start")
    ours = in_own_process("engine", folder, credits_file)
    theirs = in_own_process("pandas", folder, credits_file)
    phases = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in ours["phases"].items())
    print(
        f"\nengine: {ours['compute_s']:.2f} s from read records to lines ({phases}); "
        f"{ours['compute_cpu_s']:.2f} s CPU; {ours['credits']:,} credits; "
        f"peak memory {ours['peak_mb']:,.0f} MB"
    )
    print(f"{'implementation':<16}{'plans over the credits':>24}{'peak memory':>14}")
    print(f"{'engine (DuckDB)':<16}{ours['plans_s']:>22.2f} s{ours['peak_mb']:>11,.0f} MB")
    print(f"{'pandas':<16}{theirs['plans_s']:>22.2f} s{theirs['peak_mb']:>11,.0f} MB")
    summary_ours, summary_theirs = ours["summary"], theirs["summary"]
    print(
        f"lines: {summary_ours['lines']:,}; total {summary_ours['total_cents'] / 100:,.2f}; "
        f"Q4 2024 {summary_ours['q4_cents'] / 100:,.2f}"
    )
    differing = [
        k
        for k in sorted(set(summary_ours) | set(summary_theirs))
        if summary_ours.get(k) != summary_theirs.get(k)
    ]
    print(f"totals equal to the cent ({len(summary_ours)} figures): {'yes' if not differing else 'NO'}")
    for key in differing:
        print(f"  {key}: engine {summary_ours.get(key)}, pandas {summary_theirs.get(key)}")

    def verdict(met: bool) -> str:
        return "met" if met else "NOT met"

    print(f"goal: ≤ {GOAL_SECONDS:g} s: {verdict(ours['compute_s'] <= GOAL_SECONDS)}")
    print(f"goal: ≤ {GOAL_MEMORY_MB:,} MB: {verdict(ours['peak_mb'] <= GOAL_MEMORY_MB)}")


if __name__ == "__main__":
    main()
