"""Benchmark of CRM imports: a seeded Salesforce-style opportunity export through the real pipeline.

Imports the file into a fresh SQLite file and into PostgreSQL, each in its own process (so its peak
memory is its own), and in the same run loads the same file by each database's bare bulk path:
`sqlite3` executemany of the raw rows, PostgreSQL `COPY`, DuckDB `read_csv`. Prints rows/s, peak
memory and the ratios against the goals (≥ 50,000 rows/s into SQLite, < 1 GB, ≤ 3x the bare load).

    .venv/bin/python bench/import/run.py [--rows 1000000] [--seed 7] [--no-postgres]

PostgreSQL is ECOOPS_BENCH_DATABASE_URL when set, else a throwaway server (tests/pg_server.py).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import sqlite3
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "bench" / "out"
HEADER = [
    "Id",
    "AccountId",
    "Name",
    "StageName",
    "Amount",
    "CurrencyIsoCode",
    "CloseDate",
    "CreatedDate",
    "IsClosed",
    "IsWon",
    "OwnerId",
    "Type",
    "LeadSource",
    "Partner__c",
    "Probability",
]
STAGES = [
    ("Prospecting", 10),
    ("Qualification", 20),
    ("Needs Analysis", 30),
    ("Proposal/Price Quote", 60),
    ("Negotiation/Review", 80),
    ("Closed Won", 100),
    ("Closed Lost", 0),
]
GOAL_ROWS_PER_SECOND, GOAL_MEMORY_MB, GOAL_RATIO = 50_000, 1024, 3.0  # issue #18


def _sf_id(prefix: str, n: int) -> str:
    return f"{prefix}{n:012d}AAA"


def generate(path: Path, rows: int, seed: int) -> None:
    """A Data Loader export: 18-character ids, ISO dates, UTC time stamps, true/false flags."""
    rng = random.Random(seed)
    owners = [_sf_id("005", n) for n in range(1, 201)]
    partners = [_sf_id("001P", n) for n in range(1, 501)]
    start = date(2022, 1, 1)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for n in range(1, rows + 1):
            stage, probability = STAGES[rng.randrange(len(STAGES))]
            created = start + timedelta(days=rng.randrange(1100))
            closed = stage.startswith("Closed")
            name = f"Opportunity {n}" if n % 97 else f'Renewal, "Phase {n % 7}"\nmulti-line'
            writer.writerow(
                [
                    _sf_id("006", n),
                    _sf_id("001", rng.randrange(1, rows // 4 + 2)),
                    name,
                    stage,
                    f"{rng.randrange(500, 500_000)}.{rng.randrange(100):02d}",
                    "USD",
                    (created + timedelta(days=rng.randrange(10, 300))).isoformat(),
                    f"{created.isoformat()}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00.000Z",
                    "true" if closed else "false",
                    "true" if stage == "Closed Won" else "false",
                    rng.choice(owners),
                    rng.choice(("New Business", "Existing Business", "Renewal")),
                    rng.choice(("Web", "Partner Referral", "Trade Show", "Phone Inquiry", "")),
                    rng.choice(partners) if rng.random() < 0.2 else "",
                    str(probability),
                ]
            )


# --- measured steps, each run in a child process ------------------------------------------------


def _start() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(start: tuple[float, float]) -> dict[str, float]:
    """Wall seconds, and this process's CPU seconds (all of SQLite's work; none of PostgreSQL's server)."""
    return {"seconds": time.perf_counter() - start[0], "cpu": time.process_time() - start[1]}


def child_import(url: str, path: Path) -> dict[str, object]:
    """The real pipeline: `ecoops import` minus its printing, into the database at `url`."""
    from ecoops.actors import cli_actor
    from ecoops.config import Settings
    from ecoops.crm.imports import service
    from ecoops.crm.imports.records import Workspace
    from ecoops.db import make_engine, migrate, session_factory, transaction

    settings = Settings(env="test", secret_key="b" * 40)
    engine = make_engine(url)
    migrate(engine)
    workspace = Workspace(currency="USD", tz=settings.tz)
    runs = []
    for _ in range(2):  # the second import of the same file finds every row unchanged
        started = _start()
        with transaction(session_factory(engine)) as session:
            outcome = service.run_import(
                session,
                cli_actor(),
                path,
                filename=path.name,
                request=service.ImportRequest(),
                workspace=workspace,
                today=settings.today(),
            )
        runs.append(
            {
                **_since(started),
                "new": outcome.new,
                "rows": outcome.rows,
                "unchanged": outcome.unchanged,
                "rejected": outcome.rejected,
            }
        )
    engine.dispose()
    return {"runs": runs}


def child_sqlite_bare(url: str, path: Path) -> dict[str, object]:
    """SQLite's own path from Python: executemany of the raw csv rows into a plain table, one commit."""
    database = url.removeprefix("sqlite:///")
    started = _start()
    connection = sqlite3.connect(database, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute(f"CREATE TABLE bare ({', '.join(f'c{i} TEXT' for i in range(len(HEADER)))})")
    connection.execute("BEGIN")
    with path.open(newline="", encoding="utf-8") as stream:
        rows = csv.reader(stream)
        next(rows)
        marks = ", ".join("?" * len(HEADER))
        connection.executemany(f"INSERT INTO bare VALUES ({marks})", rows)
    connection.execute("COMMIT")
    connection.close()
    return {"runs": [_since(started)]}


def child_postgres_copy(url: str, path: Path) -> dict[str, object]:
    """PostgreSQL's own path: COPY of the file into a plain table of text columns."""
    import psycopg

    started = _start()
    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE bare ({', '.join(f'c{i} text' for i in range(len(HEADER)))})")
        with cursor.copy("COPY bare FROM STDIN (FORMAT csv, HEADER true)") as copy, path.open("rb") as stream:
            while chunk := stream.read(1 << 20):
                copy.write(chunk)
    return {"runs": [_since(started)]}


FLOOR_INSERT = """
INSERT INTO opportunities (crm_id, account_crm_id, name, stage, amount, currency, original_amount,
  created_on, close_date, is_closed, is_won, owner, opportunity_type, lead_source, partner_source)
SELECT c0, c1, c2, c3, c4::numeric, c5, c4::numeric, c6::date, left(c7, 10)::date, c8::boolean,
  c9::boolean, c10, c11, coalesce(c12, ''), coalesce(c13, '') FROM raw
ON CONFLICT (crm_id) DO NOTHING
"""


def child_postgres_floor(url: str, path: Path) -> dict[str, object]:
    """The floor of any staging design: bare COPY, then one unchecked INSERT … SELECT into `opportunities`.

    No validation at all, casts only, and the plain indexes rebuilt as the import does for a first load.
    What this costs beyond the bare COPY is the indexed table's own price, which no faster reading
    or checking can remove.
    """

    from ecoops.crm.models import Opportunity
    from ecoops.db import make_engine, migrate

    engine = make_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    migrate(engine)
    started = _start()
    with engine.begin() as connection:
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(f"CREATE TEMP TABLE raw ({', '.join(f'c{i} text' for i in range(len(HEADER)))})")
        with cursor.copy("COPY raw FROM STDIN (FORMAT csv, HEADER true)") as copy, path.open("rb") as stream:
            while chunk := stream.read(1 << 20):
                copy.write(chunk)
        copied = time.perf_counter()
        plain = [index for index in Opportunity.__table__.indexes if not index.unique]
        for index in plain:
            index.drop(connection)
        cursor.execute(FLOOR_INSERT)
        for index in plain:
            index.create(connection)
    engine.dispose()
    return {"runs": [_since(started) | {"copy": copied - started[0]}]}


def child_duckdb(_url: str, path: Path) -> dict[str, object]:
    """DuckDB's own path: read_csv of the file into a table."""
    import duckdb

    started = _start()
    connection = duckdb.connect()
    connection.execute("CREATE TABLE bare AS SELECT * FROM read_csv(?, header = true)", [str(path)])
    connection.close()
    return {"runs": [_since(started)]}


CHILDREN = {
    "import": child_import,
    "sqlite_bare": child_sqlite_bare,
    "postgres_copy": child_postgres_copy,
    "postgres_floor": child_postgres_floor,
    "duckdb": child_duckdb,
}


def measure(step: str, url: str, path: Path) -> dict[str, object]:
    """Run a step in a fresh process; its own figures plus its peak resident memory."""
    result = subprocess.run(
        [sys.executable, __file__, "--child", step, url, str(path)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- the run --------------------------------------------------------------------------------------


def _fresh_postgres(admin_url: str) -> str:
    import psycopg

    name = f"ecoops_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + "/" + name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-postgres", action="store_true", help="SQLite and DuckDB only")
    args = parser.parse_args()

    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"opportunities-{args.rows}-{args.seed}.csv"
    if not path.exists():
        started = time.perf_counter()
        generate(path, args.rows, args.seed)
        print(f"generated {path.relative_to(ROOT)} in {time.perf_counter() - started:.1f}s")
    print(f"file: {path.stat().st_size / 1e6:,.0f} MB, {args.rows:,} rows\n")

    steps: list[Step] = []
    sqlite_db = OUT / "import-bench.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{sqlite_db}{suffix}").unlink(missing_ok=True)
    steps.append(step("SQLite: ecoops import", "sqlite", measure("import", f"sqlite:///{sqlite_db}", path)))
    bare_db = OUT / "bare-bench.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{bare_db}{suffix}").unlink(missing_ok=True)
    bare_sqlite = measure("sqlite_bare", f"sqlite:///{bare_db}", path)
    steps.append(step("SQLite: bare executemany", "sqlite", bare_sqlite))
    steps.append(step("DuckDB: bare read_csv", "duckdb", measure("duckdb", "", path)))

    if not args.no_postgres:
        server = None
        admin_url = os.environ.get("ECOOPS_BENCH_DATABASE_URL", "")
        if not admin_url:
            sys.path.insert(0, str(ROOT))
            from tests.pg_server import start_postgres

            server = start_postgres()
            admin_url = server.url
        try:
            import_url = _fresh_postgres(admin_url)
            steps.append(step("PostgreSQL: ecoops import", "postgres", measure("import", import_url, path)))
            bare_url = _fresh_postgres(admin_url)
            steps.append(step("PostgreSQL: bare COPY", "postgres", measure("postgres_copy", bare_url, path)))
            floor_url = _fresh_postgres(admin_url)
            floor = measure("postgres_floor", floor_url, path)
            steps.append(step("PostgreSQL: COPY + unchecked INSERT (floor)", "postgres", floor))
        finally:
            if server is not None:
                server.stop()
    report(steps, args.rows)


@dataclass
class Step:
    """One measured step: its wall and CPU times (a second run for imports) and its process's peak memory."""

    name: str
    backend: str  # sqlite | postgres | duckdb: which bare load it compares with
    seconds: list[float]
    cpu: list[float]  # the measuring process's own CPU: all of SQLite's work, none of PostgreSQL's server
    peak_mb: float

    @property
    def bare(self) -> bool:
        return "bare" in self.name


def step(name: str, backend: str, figures: dict[str, Any]) -> Step:
    runs = figures["runs"]
    if "copy" in runs[0]:
        print(f"{name}: its COPY took {runs[0]['copy']:.1f}s of {runs[0]['seconds']:.1f}s")
    return Step(name, backend, [r["seconds"] for r in runs], [r["cpu"] for r in runs], figures["peak_mb"])


def report(steps: list[Step], rows: int) -> None:
    bare = {s.backend: s.seconds[0] for s in steps if s.bare}
    bare_cpu = {s.backend: s.cpu[0] for s in steps if s.bare}
    print(f"{'step':<48}{'seconds':>9}{'rows/s':>12}{'CPU s':>8}{'peak MB':>9}{'x bare':>8}{'x DuckDB':>10}")
    for s in steps:
        for index, seconds in enumerate(s.seconds):
            label = s.name + (" again (all unchanged)" if index else "")
            ratio = "" if s.bare else f"{seconds / bare[s.backend]:.1f}"
            print(
                f"{label:<48}{seconds:>9.1f}{rows / seconds:>12,.0f}{s.cpu[index]:>8.1f}{s.peak_mb:>9.0f}"
                f"{ratio:>8}{seconds / bare['duckdb']:>10.1f}"
            )
    print(f"\nload average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())} (2 cores shared)")
    for s in (s for s in steps if not s.bare):
        rate, times = rows / s.seconds[0], s.seconds[0] / bare[s.backend]
        goals = [f"{times:.1f}x its bare load (goal <= {GOAL_RATIO:.0f}x: {_met(times <= GOAL_RATIO)})"]
        goals.append(
            f"peak {s.peak_mb:.0f} MB (goal < {GOAL_MEMORY_MB} MB: {_met(s.peak_mb < GOAL_MEMORY_MB)})"
        )
        if s.backend == "sqlite":
            met = _met(rate >= GOAL_ROWS_PER_SECOND)
            per_cpu = rows / s.cpu[0]
            goals.insert(0, f"{rate:,.0f} rows/s (goal >= {GOAL_ROWS_PER_SECOND:,}: {met})")
            cpu_times = s.cpu[0] / bare_cpu["sqlite"]
            goals.insert(1, f"{per_cpu:,.0f} rows per CPU second, {cpu_times:.1f}x bare CPU")
        print(f"{s.name}: " + "; ".join(goals))


def _met(ok: bool) -> str:
    return "met" if ok else "MISSED"


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        figures = CHILDREN[sys.argv[2]](sys.argv[3], Path(sys.argv[4]))
        figures["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(figures))
    else:
        main()
