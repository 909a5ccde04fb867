"""Account-matching benchmark: ecoops against the plain baseline script, a domain-only join, Splink and a
bare hash join, in one run, on two data sets.

Each method runs in its own process (so its peak memory is its own) on the same data, and the parent
scores its pairs against the truth: precision, recall, F1 (overall and on the hard tier), recall per
noise type, false positives on look-alikes, candidate pairs per record, seconds per stage. The data
sets: `generated` (generate.py, syllable names, `--sizes` records a side) and `companies`
(companies.py, real company names with `--families` look-alikes around each).

    python bench/mapping/run.py --sizes 10000,100000 --families 1,20
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
import companies
import generate

METHODS = ("ecoops", "ecoops_em", "baseline", "domain_join", "splink", "hash_join")
NOISE_TYPES = {"generated": generate.NOISE_TYPES, "companies": companies.NOISE_TYPES}
LOOKALIKE_KINDS = {
    "generated": ("sibling", "same_name_other_country", "parent_subsidiary"),
    "companies": companies.LOOKALIKE_KINDS,
}
# Column of the summary table → (figure, decimals).
SUMMARY_COLUMNS = {
    "precision": ("precision", 3),
    "recall": ("recall", 3),
    "F1": ("f1", 3),
    "F1 hard": ("f1_hard", 3),
    "precision hard": ("precision_hard", 3),
    "look-alike FP": ("lookalike_fp_all", 4),
    "seconds": ("seconds", 1),
    "CPU seconds": ("cpu_seconds", 1),
    "peak MB": ("peak_mb", 0),
}
INPUT_COLUMNS = ["id", "name", "website", "country"]
NOTE_MARK = "note: "  # a worker's line to print under the table (its estimated weights, its CPU per stage)


def _read(data: Path) -> tuple[pa.Table, pa.Table]:
    return (pq.read_table(data / f"{side}.parquet", columns=INPUT_COLUMNS) for side in ("ours", "theirs"))  # type: ignore[return-value]


def _ecoops(data: Path, weights: str = "fixed") -> tuple[pa.Table, dict[str, float], int]:
    from ecoops.engines.matching import MatchSettings, match_accounts

    started = time.perf_counter()
    ours, theirs = _read(data)
    read = time.perf_counter() - started
    result = match_accounts(ours, theirs, settings=MatchSettings(weights=weights))
    if result.weights.source == "em":  # what the lists said, for the table (stdout's last line is the JSON)
        w = result.weights
        shown = {
            "adjustments": w.adjustments,
            "share": w.share,
            "bits_per_unit": w.bits_per_unit,
            "m": w.m,
            "u": w.u,
        }
        print(f"{NOTE_MARK}weights estimated by ecoops_em: {json.dumps(shown)}")
    cpu = ", ".join(f"{k} {v:.2f}" for k, v in result.stage_cpu_seconds.items())
    print(f"{NOTE_MARK}CPU seconds per stage of ecoops ({weights} weights), all threads: {cpu}")
    return (
        result.pairs.select(["our_id", "their_id"]),
        {"read": read, **result.stage_seconds},
        result.candidate_pairs,
    )


def _baseline(data: Path) -> tuple[pa.Table, dict[str, float], int]:
    from baseline import plain_match

    started = time.perf_counter()
    ours, theirs = _read(data)
    read = time.perf_counter() - started
    started = time.perf_counter()
    pairs = plain_match(ours, theirs)
    return pairs, {"read": read, "match": time.perf_counter() - started}, -1


def _domain_join(data: Path) -> tuple[pa.Table, dict[str, float], int]:
    from ecoops.engines.matching import registrable_domains

    started = time.perf_counter()
    ours, theirs = _read(data)
    read = time.perf_counter() - started
    started = time.perf_counter()
    keyed = [
        pa.table({"id": t.column("id"), "domain": registrable_domains(t.column("website"))})
        for t in (ours, theirs)
    ]
    normalise = time.perf_counter() - started
    started = time.perf_counter()
    pairs = _join(keyed[0], keyed[1], "domain")
    join = time.perf_counter() - started
    return pairs, {"read": read, "normalise": normalise, "join": join}, pairs.num_rows


def _join(ours: pa.Table, theirs: pa.Table, key: str) -> pa.Table:
    con = duckdb.connect()
    con.register("o", ours)
    con.register("t", theirs)
    return con.sql(f"SELECT o.id AS our_id, t.id AS their_id FROM o JOIN t USING ({key})").to_arrow_table()


def _hash_join(data: Path) -> tuple[pa.Table, dict[str, float], int]:
    from ecoops.engines.matching import registrable_domains

    ours, theirs = _read(data)
    # The keys are made outside the clock: this is the floor of what any join of two 1M tables costs.
    con = duckdb.connect()
    keyed = []
    for t in (ours, theirs):
        con.register(
            "d", pa.table({"id": t.column("id"), "domain": registrable_domains(t.column("website"))})
        )
        keyed.append(
            con.sql("SELECT id, hash(domain) AS key FROM d WHERE domain IS NOT NULL").to_arrow_table()
        )
        con.unregister("d")
    started = time.perf_counter()
    pairs = _join(keyed[0], keyed[1], "key")
    return pairs, {"join": time.perf_counter() - started}, pairs.num_rows


def _splink(data: Path) -> tuple[pa.Table, dict[str, float], int]:
    import logging

    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    from ecoops.engines.matching import keyed_accounts

    stages: dict[str, float] = {}
    started = time.perf_counter()
    ours, theirs = _read(data)
    stages["read"] = time.perf_counter() - started
    # Splink compares the columns it is given: it gets ecoops's normalised keys, the fairest start.
    started = time.perf_counter()
    keyed = [
        keyed_accounts(t, side=side).select(["id", "name_key", "name_core", "domain", "country"])
        for t, side in ((ours, "ours"), (theirs, "theirs"))
    ]
    stages["normalise"] = time.perf_counter() - started
    started = time.perf_counter()
    db_api = DuckDBAPI()
    frames = [db_api.register(t, table_name=side) for t, side in zip(keyed, ("ours", "theirs"), strict=True)]
    name_block = block_on("substr(name_core, 1, 4)", "country")
    settings = SettingsCreator(
        link_type="link_only",
        unique_id_column_name="id",
        comparisons=[
            cl.JaroWinklerAtThresholds("name_key", [0.95, 0.88, 0.7]),
            cl.ExactMatch("domain"),
            cl.ExactMatch("country"),
        ],
        blocking_rules_to_generate_predictions=[block_on("domain"), name_block],
    )
    linker = Linker(frames, settings, log_level=logging.WARNING)
    linker.training.estimate_probability_two_random_records_match([block_on("domain")], recall=0.6)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("domain"))
    linker.training.estimate_parameters_using_expectation_maximisation(name_block)
    stages["train"] = time.perf_counter() - started
    started = time.perf_counter()
    # Match weight above 0: a match is more likely than not (0.9 loses most name-only matches).
    predictions = linker.inference.predict(threshold_match_probability=0.5).as_pyarrow_table()
    stages["predict"] = time.perf_counter() - started
    left_is_ours = pa.compute.equal(predictions.column("source_dataset_l"), "ours")
    pairs = pa.table(
        {
            "our_id": pa.compute.if_else(
                left_is_ours, predictions.column("id_l"), predictions.column("id_r")
            ),
            "their_id": pa.compute.if_else(
                left_is_ours, predictions.column("id_r"), predictions.column("id_l")
            ),
        }
    )
    return pairs, stages, -1  # Splink does not say how many pairs its blocking produced


def worker(method: str, data: Path, out: Path) -> None:
    """Run one method in this process; write its pairs and print its figures as JSON."""
    pairs, stages, candidates = {
        "ecoops": _ecoops,
        "ecoops_em": lambda data: _ecoops(data, weights="em"),
        "baseline": _baseline,
        "domain_join": _domain_join,
        "splink": _splink,
        "hash_join": _hash_join,
    }[method](data)
    seconds = sum(stages.values())  # what each method puts on the clock (the hash join: the join alone)
    pq.write_table(pairs, out)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    figures = {"seconds": seconds, "cpu_seconds": usage.ru_utime + usage.ru_stime, "stages": stages}
    print(json.dumps({**figures, "candidates": candidates, "peak_mb": usage.ru_maxrss / 1024}))


def evaluate(data: Path, predicted: Path, noise_types: tuple[str, ...]) -> dict[str, float]:
    """Precision, recall, F1 overall and per tier, recall per noise type, false positives on look-alikes."""
    con = duckdb.connect()
    for name in ("ours", "theirs", "truth", "lookalikes"):
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{data / name}.parquet')")
    con.execute(f"CREATE TABLE pred AS SELECT DISTINCT our_id, their_id FROM read_parquet('{predicted}')")
    row = con.execute("""
        SELECT (SELECT count(*) FROM pred) AS predicted,
               (SELECT count(*) FROM pred JOIN truth USING (our_id, their_id)) AS correct,
               (SELECT count(*) FROM truth) AS relevant
    """).fetchone()
    assert row is not None
    figures = _prf(*row)
    for tier in ("easy", "hard"):
        row = con.execute(f"""
            SELECT (SELECT count(*) FROM pred JOIN ours ON ours.id = pred.our_id
                    WHERE ours.tier = '{tier}'),
                   (SELECT count(*) FROM pred JOIN truth USING (our_id, their_id)
                    WHERE truth.tier = '{tier}'),
                   (SELECT count(*) FROM truth WHERE tier = '{tier}')
        """).fetchone()
        assert row is not None
        figures.update({f"{k}_{tier}": v for k, v in _prf(*row).items()})
    for noise in noise_types:
        row = con.execute(f"""
            SELECT count(*) FILTER (WHERE pred.our_id IS NOT NULL), count(*)
            FROM truth JOIN theirs ON theirs.id = truth.their_id
            LEFT JOIN pred USING (our_id, their_id)
            WHERE list_contains(string_split(theirs.noise, '|'), '{noise}')
        """).fetchone()
        assert row is not None
        figures[f"recall_{noise}"] = row[0] / row[1] if row[1] else float("nan")
        # Of the pairs found whose partner record has this noise, the share that are true.
        row = con.execute(f"""
            SELECT count(*) FILTER (WHERE truth.our_id IS NOT NULL), count(*)
            FROM pred JOIN theirs ON theirs.id = pred.their_id
            LEFT JOIN truth USING (our_id, their_id)
            WHERE list_contains(string_split(theirs.noise, '|'), '{noise}')
        """).fetchone()
        assert row is not None
        figures[f"precision_{noise}"] = row[0] / row[1] if row[1] else float("nan")
    for kind, fp, total in con.execute("""
        SELECT kind, count(*) FILTER (WHERE pred.our_id IS NOT NULL), count(*)
        FROM lookalikes LEFT JOIN pred USING (our_id, their_id) GROUP BY kind UNION ALL
        SELECT 'all', count(*) FILTER (WHERE pred.our_id IS NOT NULL), count(*)
        FROM lookalikes LEFT JOIN pred USING (our_id, their_id)
    """).fetchall():
        figures[f"lookalike_fp_{kind}"] = fp / total if total else float("nan")
    return figures


def misses(data: Path, predicted: Path, noise_types: tuple[str, ...], limit: int) -> str:
    """Up to `limit` missed true pairs per noise type of the partner record, and up to `limit` false
    matches per look-alike kind (or "other"), each with both records as the files have them."""
    con = duckdb.connect()
    for name in ("ours", "theirs", "truth", "lookalikes"):
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{data / name}.parquet')")
    con.execute(f"CREATE TABLE pred AS SELECT DISTINCT our_id, their_id FROM read_parquet('{predicted}')")
    shown = "o.name, o.website, o.country, t.name, t.website, t.country, t.noise"

    def rows(sql: str) -> list[str]:
        return [
            "    " + " | ".join("" if v is None else str(v) for v in r) for r in con.execute(sql).fetchall()
        ]

    lines = ["Missed (ours: name | website | country; theirs: name | website | country | noise):"]
    for noise in noise_types:
        found = rows(f"""
            SELECT {shown}
            FROM truth JOIN ours o ON o.id = truth.our_id JOIN theirs t ON t.id = truth.their_id
            LEFT JOIN pred USING (our_id, their_id)
            WHERE pred.our_id IS NULL AND list_contains(string_split(t.noise, '|'), '{noise}')
            ORDER BY hash(o.id) LIMIT {limit}
        """)
        lines += [f"  {noise}:", *found] if found else []
    lines.append("False matches:")
    for kind in con.execute(
        "SELECT DISTINCT kind FROM lookalikes UNION SELECT 'other' ORDER BY 1"
    ).fetchall():
        found = rows(f"""
            SELECT {shown} FROM pred LEFT JOIN truth USING (our_id, their_id)
            LEFT JOIN lookalikes l USING (our_id, their_id)
            JOIN ours o ON o.id = pred.our_id JOIN theirs t ON t.id = pred.their_id
            WHERE truth.our_id IS NULL AND coalesce(l.kind, 'other') = '{kind[0]}'
            ORDER BY hash(o.id) LIMIT {limit}
        """)
        lines += [f"  {kind[0]}:", *found] if found else []
    return "\n".join(lines)


def _prf(predicted: int, correct: int, relevant: int) -> dict[str, float]:
    precision = correct / predicted if predicted else 1.0
    recall = correct / relevant if relevant else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def _run_method(method: str, data: Path, timeout: float, noise_types: tuple[str, ...]) -> dict[str, object]:
    out = data / f"pred-{method}.parquet"
    command = [sys.executable, __file__, "--worker", method, "--data", str(data), "--out", str(out)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"status": f"timed out after {timeout:.0f} s"}
    if done.returncode != 0:
        return {"status": "failed: " + done.stderr.strip().splitlines()[-1]}
    lines = done.stdout.strip().splitlines()
    result: dict[str, object] = json.loads(lines[-1])
    result["notes"] = [line.removeprefix(NOTE_MARK) for line in lines if line.startswith(NOTE_MARK)]
    result.update(evaluate(data, out, noise_types), status="ok")
    return result


def _table(title: str, dataset: str, size: int, results: dict[str, dict[str, object]]) -> str:
    ok = {method: r for method, r in results.items() if r["status"] == "ok"}

    def f(value: object, digits: int = 3) -> str:
        return f"{value:.{digits}f}" if isinstance(value, float) else str(value)

    def per_method(
        title: str, columns: tuple[str, ...], cell: Callable[[dict[str, object], str], str]
    ) -> list[str]:
        header = [title, "", "| method | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
        return (
            header
            + [f"| {m} | " + " | ".join(cell(r, c) for c in columns) + " |" for m, r in ok.items()]
            + [""]
        )

    def summary(r: dict[str, object], column: str) -> str:
        if column == "candidates/record":
            n = r["candidates"]
            return f"{n / size:.1f}" if isinstance(n, int) and n >= 0 else "n/a"
        key, digits = SUMMARY_COLUMNS[column]
        return f(r[key], digits)

    lines = [
        f"### {title} (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)",
        "",
    ]
    lines += per_method("", (*SUMMARY_COLUMNS, "candidates/record"), summary)[2:]
    failed = [f"| {m} | {r['status']} |" for m, r in results.items() if r["status"] != "ok"]
    lines += [*failed, ""] if failed else []
    lines += per_method(
        "Recall per noise type (partner side):", NOISE_TYPES[dataset], lambda r, n: f(r[f"recall_{n}"], 2)
    )
    lines += per_method(
        "Precision per noise type (pairs found whose partner record has it):",
        NOISE_TYPES[dataset],
        lambda r, n: f(r[f"precision_{n}"], 3),
    )
    kinds = LOOKALIKE_KINDS[dataset]
    lines += per_method("False-positive rate on look-alikes:", kinds, lambda r, k: f(r[f"lookalike_fp_{k}"]))
    lines += ["Seconds per stage:", ""]
    lines += [f"- {m}: " + ", ".join(f"{k} {v:.2f}" for k, v in r["stages"].items()) for m, r in ok.items()]  # type: ignore[attr-defined]
    lines += [f"- {note}" for r in ok.values() for note in r["notes"]]  # type: ignore[attr-defined]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="generated,companies")
    parser.add_argument("--sizes", default="10000,100000", help="records a side of the generated data")
    parser.add_argument("--families", default="1,20", help="look-alikes around each real company")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data-dir", type=Path, default=Path("var/bench-mapping"))
    parser.add_argument(
        "--splink-timeout", type=float, default=1200.0, help="seconds before Splink is stopped"
    )
    parser.add_argument(
        "--show-misses", type=int, default=0, metavar="N",
        help="print up to N of ecoops's missed pairs per noise type and false matches per look-alike kind",
    )  # fmt: skip
    parser.add_argument("--worker", choices=METHODS, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.data, args.out)
        return
    runs = []
    if "generated" in args.datasets.split(","):
        for size in (int(n) for n in args.sizes.split(",")):
            data = generate.write(size, args.data_dir / f"{size}-{args.seed}", args.seed)
            runs.append(("generated", f"Generated: {size:,} x {size:,} accounts", data))
    if "companies" in args.datasets.split(","):
        for families in (int(n) for n in args.families.split(",")):
            data = companies.write(families, args.data_dir / f"companies-{families}-{args.seed}", args.seed)
            sizes = "{:,} x {:,}".format(
                *(pq.read_metadata(data / f"{s}.parquet").num_rows for s in ("ours", "theirs"))
            )
            runs.append(
                ("companies", f"Real companies, {families} look-alike(s) each: {sizes} accounts", data)
            )
    for dataset, title, data in runs:
        size = pq.read_metadata(data / "ours.parquet").num_rows
        results = {}
        for method in args.methods.split(","):
            timeout = args.splink_timeout if method == "splink" else 3600.0
            results[method] = _run_method(method, data, timeout, NOISE_TYPES[dataset])
        print(_table(title, dataset, size, results), flush=True)
        if args.show_misses and results.get("ecoops", {}).get("status") == "ok":
            print(
                misses(data, data / "pred-ecoops.parquet", NOISE_TYPES[dataset], args.show_misses), flush=True
            )
        print(flush=True)


if __name__ == "__main__":
    main()
