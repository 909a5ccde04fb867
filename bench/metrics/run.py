"""Benchmark of the metrics engine: every dashboard figure for one period, beside a pandas baseline.

A seeded generator writes 1M opportunities, 5M stage changes, 2M touches, 500 partners, 200k referrals
and 500k overlaps (at --scale 1) to Parquet under bench/out/ once. Then the engine and the pandas
implementation of the same figures each run in their own process, so each peak memory (max RSS) is
its own; each reads the files, then computes the whole dashboard for Q4 2024 as of 31 Dec 2024. The
run checks that both report the same figures, and prints time and memory beside the goals:
≤ 3 s and ≤ 2 GB for the engine on the 2-core machine, and faster than pandas.

    .venv/bin/python bench/metrics/run.py [--scale 1.0] [--seed 7] [--no-pandas]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import metrics_data

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "bench" / "out" / "metrics"
TARGET_REVENUE = 5_000_000.0
GOAL_SECONDS, GOAL_MEMORY_MB = 3.0, 2048


def run_engine(folder: Path) -> dict[str, Any]:
    from headline import engine_headline

    from ecoops.engines.metrics import Period, dashboard, take_snapshot, validate_inputs

    started = time.perf_counter()
    tables = metrics_data.read(folder)
    loaded, cpu = time.perf_counter(), time.process_time()
    inputs = validate_inputs(**tables)
    validated = time.perf_counter()
    snapshot = take_snapshot(inputs, metrics_data.AS_OF)
    snapped = time.perf_counter()
    figures = dashboard(snapshot, Period(*metrics_data.PERIOD), TARGET_REVENUE)
    done, cpu_used = time.perf_counter(), time.process_time() - cpu
    # Opening every figure's records, as a reader drilling into each would; timed apart.
    records = sum(result.records.num_rows for result in figures.values())
    return {
        "load_s": loaded - started,
        "compute_s": done - loaded,
        "compute_cpu_s": cpu_used,
        "phases": {
            "validate": validated - loaded,
            "snapshot": snapped - validated,
            "figures": done - snapped,
        },
        "records": records,
        "records_s": time.perf_counter() - done,
        "headline": engine_headline(figures),
    }


def run_pandas(folder: Path) -> dict[str, Any]:
    import pandas_metrics

    started = time.perf_counter()
    frames = pandas_metrics.load(metrics_data.read(folder))
    loaded, cpu = time.perf_counter(), time.process_time()
    headline = pandas_metrics.dashboard_headline(
        frames, metrics_data.AS_OF, *metrics_data.PERIOD, TARGET_REVENUE
    )
    done = time.perf_counter()
    return {
        "load_s": loaded - started,
        "compute_s": done - loaded,
        "compute_cpu_s": time.process_time() - cpu,
        "headline": headline,
    }


def in_own_process(worker: str, folder: Path) -> dict[str, Any]:
    """Run one implementation in a child process; add its peak resident memory."""
    child = subprocess.Popen(
        [sys.executable, __file__, "--worker", worker, "--data", str(folder)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"the {worker} run failed ({child.returncode})")
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    result["peak_mb"] = usage.ru_maxrss / 1024  # Linux reports kilobytes
    return result


def disagreements(engine: dict[str, Any], baseline: dict[str, Any]) -> list[str]:
    out = []
    for key in sorted(set(engine) | set(baseline)):
        a, b = engine.get(key, "missing"), baseline.get(key, "missing")
        same = a == b or (
            isinstance(a, int | float)
            and isinstance(b, int | float)
            and math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-6)
        )
        if not same:
            out.append(f"{key}: engine {a!r}, pandas {b!r}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 1M opportunities (default)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-pandas", action="store_true", help="skip the baseline")
    parser.add_argument("--worker", choices=["engine", "pandas"], help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        result = run_engine(args.data) if args.worker == "engine" else run_pandas(args.data)
        print(json.dumps(result))
        return

    folder = OUT / f"scale-{args.scale:g}-seed-{args.seed}"
    if not (folder / "opportunities.parquet").exists():
        started = time.perf_counter()
        metrics_data.write(metrics_data.generate(args.scale, args.seed), folder)
        print(f"generated {folder.relative_to(ROOT)} in {time.perf_counter() - started:.1f} s")
    sizes = metrics_data.sizes(args.scale)
    print(
        f"inputs: {sizes['opportunities']:,} opportunities, {sizes['stage_changes']:,} stage changes, "
        f"{sizes['touches']:,} touches, {metrics_data.PARTNERS} partners, {sizes['referrals']:,} referrals, "
        f"{sizes['overlaps']:,} overlaps; period {metrics_data.PERIOD[0]} to {metrics_data.PERIOD[1]}, "
        f"as of {metrics_data.AS_OF}"
    )
    # Other work on the machine slows the wall clock; CPU seconds show the work itself.
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start")
    results = {"engine": in_own_process("engine", folder)}
    if not args.no_pandas:
        results["pandas"] = in_own_process("pandas", folder)

    print(
        f"\n{'implementation':<16}{'read files':>12}{'all figures':>14}{'(CPU time)':>14}{'peak memory':>14}"
    )
    for name, result in results.items():
        load, compute, cpu, peak = (
            result["load_s"],
            result["compute_s"],
            result["compute_cpu_s"],
            result["peak_mb"],
        )
        print(f"{name:<16}{load:>10.2f} s{compute:>12.2f} s{cpu:>12.2f} s{peak:>11,.0f} MB")
    engine = results["engine"]
    phases = ", ".join(f"{phase} {seconds:.2f} s" for phase, seconds in engine["phases"].items())
    print(f"engine phases: {phases}")
    print(f"then opening every figure's records: {engine['records']:,} rows in {engine['records_s']:.2f} s")

    def verdict(met: bool) -> str:
        return "met" if met else "NOT met"

    print(f"\ngoal: all figures in ≤ {GOAL_SECONDS:g} s: {verdict(engine['compute_s'] <= GOAL_SECONDS)}")
    print(f"goal: peak memory ≤ {GOAL_MEMORY_MB:,} MB: {verdict(engine['peak_mb'] <= GOAL_MEMORY_MB)}")
    if "pandas" in results:
        baseline = results["pandas"]
        speedup = baseline["compute_s"] / engine["compute_s"]
        print(f"goal: faster than pandas: {verdict(speedup > 1)} ({speedup:.1f}x)")
        differences = disagreements(engine["headline"], baseline["headline"])
        print(f"figures compared with pandas: {len(engine['headline'])}, differing: {len(differences)}")
        for line in differences[:20]:
            print(f"  {line}")


if __name__ == "__main__":
    main()
