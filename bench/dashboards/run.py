"""Dashboards at scale: how long a reader waits for the overview on a workspace of 1M opportunities,
5M stage changes and 2M touches (at --scale 1), with the dashboards kept warm and without.

bench/metrics's seeded generator makes the records (its 500 partners, 200k referrals, their programs
and tiers; not its overlaps, which need mapping runs), shifted so that its last day is today, and they
are written into a fresh SQLite database (or --database-url). Then `ecoops serve` runs on it twice:

- **cold** (ECOOPS_WARM_DASHBOARDS=off): the first reader computes the figures: what every request
  would wait for if dashboards were computed per request, and what the first reader after each change
  waits for without warming — the baseline;
- **warm** (on): the server computes them in the background at start and after each change (its log
  says "dashboards warmed"); readers come once it has.

In each, 1 and then 8 signed-in clients GET /dashboards/overview (default filters, as a person opens
it) --requests times each; the figures are p50/p95/p99 of those latencies. The data version every
request reads (ecoops.data_version) is timed apart, as is one whole computation in this process.

    .venv/bin/python bench/dashboards/run.py [--scale 1.0] [--requests 40] [--database-url URL]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
import pyarrow as pa
import pyarrow.compute as pc

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "bench" / "metrics"), str(ROOT)]

import metrics_data  # noqa: E402
from sqlalchemy import JSON, Column, ColumnDefault, DateTime, Engine, Table, func, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402
from tests.pg_server import free_port  # noqa: E402

from ecoops.accounts import service as accounts  # noqa: E402
from ecoops.actors import SYSTEM, Role  # noqa: E402
from ecoops.config import Settings  # noqa: E402
from ecoops.crm.models import Opportunity  # noqa: E402
from ecoops.db import Base, make_engine, migrate, session_factory  # noqa: E402

GOAL_P95_MS = 300
BATCH = 50_000
EMAIL, PASSWORD = "bench@example.com", "bench-password-1"


def _shift(table: pa.Table, days: int) -> pa.Table:
    """Every date column moved by `days`, so the generated history ends today."""
    for index, field in enumerate(table.schema):
        if pa.types.is_date32(field.type):
            shifted = pc.add(table.column(index).cast(pa.int32()), pa.scalar(days, pa.int32())).cast(
                pa.date32()
            )
            table = table.set_column(index, field, shifted)
    return table


ID_COLUMNS = ("partner_id", "program_id", "tier_id", "opportunity_id", "change_id", "touch_id", "referral_id")


def generated_records(scale: float, seed: int, id_offset: int = 0) -> dict[str, pa.Table]:
    """bench/metrics's records, shifted to end today; every row id and reference to one raised by
    `id_offset`, so they can join a database that already holds rows (bench/load/locust_run.py adds them
    to the demo's: the demo's ids stay below the offset, the sequences keep numbering them)."""
    tables = metrics_data.generate(scale, seed)
    days = (datetime.now(UTC).date() - metrics_data.AS_OF).days
    tables = {name: _shift(table, days) for name, table in tables.items()}
    if not id_offset:
        return tables
    for name, table in tables.items():
        for column in ID_COLUMNS:
            if column in table.column_names:
                index = table.column_names.index(column)
                raised = pc.add(table.column(index), pa.scalar(id_offset, table.schema.field(index).type))
                table = table.set_column(index, table.schema.field(index), raised)
        tables[name] = table
    return tables


def _rows(
    table: pa.Table, rename: dict[str, str], drop: tuple[str, ...] = ()
) -> Iterator[list[dict[str, Any]]]:
    keep = [name for name in table.column_names if name not in drop]
    for batch in table.select(keep).to_batches(BATCH):
        yield [{rename.get(k, k): v for k, v in row.items()} for row in batch.to_pylist()]


def _default(column: Column[Any], now: datetime) -> Any:
    """A column's default as the driver takes it: a timestamp's is `now`; a callable's value
    (SQLAlchemy wraps it to take an execution context) goes as JSON text into a JSON column, which
    PostgreSQL would otherwise be sent as an array (referrals.conflicts)."""
    default = column.default
    assert isinstance(default, ColumnDefault)
    if default.is_scalar:
        return default.arg
    if isinstance(column.type, DateTime):
        return now
    value = default.arg(None)
    return json.dumps(value) if isinstance(column.type, JSON) else value


def _insert(engine: Engine, name: str, batches: Iterator[list[dict[str, Any]]], fill: dict[str, Any]) -> int:
    """Rows into table `name` through the driver's executemany (the ORM's per-row work would dominate);
    a null in a required column takes `fill`'s value, else the column's default."""
    target: Table = Base.metadata.tables[name]
    now = datetime.now(UTC)  # one "now" for every created_at / recorded_at of the load
    defaults = {
        c.name: _default(c, now) for c in target.columns if not c.nullable and c.default is not None
    } | fill
    marker = "?" if engine.dialect.paramstyle == "qmark" else "%s"
    count = 0
    with engine.begin() as connection:
        cursor = connection.connection.cursor()
        for rows in batches:
            columns = list(dict.fromkeys([*defaults, *rows[0]]))
            statement = (
                f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({', '.join([marker] * len(columns))})"
            )
            cursor.executemany(
                statement,
                [
                    tuple(
                        v if (v := row.get(c)) is not None or c not in defaults else defaults[c]
                        for c in columns
                    )
                    for row in rows
                ],
            )
            count += len(rows)
    return count


def load(engine: Engine, tables: dict[str, pa.Table]) -> dict[str, int]:
    """The generated engine inputs, written back as the stored records the feed reads them from."""
    memberships = tables["memberships"]
    programs = sorted(set(memberships.column("program_id").to_pylist()))
    tiers = {
        t: p
        for t, p in zip(
            memberships.column("tier_id").to_pylist(),
            memberships.column("program_id").to_pylist(),
            strict=True,
        )
        if t is not None
    }
    stages = {r["partner_id"]: r for r in tables["partner_stage_changes"].sort_by("changed_on").to_pylist()}
    counts = {
        "programs": _insert(
            engine, "programs", iter([[{"id": p, "name": f"Program {p}"} for p in programs]]), {}
        ),
        "tiers": _insert(
            engine,
            "tiers",
            iter([[{"id": t, "program_id": p, "name": f"Tier {t}"} for t, p in tiers.items()]]),
            {},
        ),
    }
    partners = [
        {
            "id": row["partner_id"],
            "name": f"Partner {row['partner_id']}",
            "partner_type": row["partner_type"],
            "stage": stages[row["partner_id"]]["to_stage"] if row["partner_id"] in stages else "prospect",
            "stage_since": stages[row["partner_id"]]["changed_on"]
            if row["partner_id"] in stages
            else date.today(),
        }
        for row in tables["partners"].to_pylist()
    ]
    counts["partners"] = _insert(engine, "partners", iter([partners]), {})
    counts["partner_stage_changes"] = _insert(
        engine, "partner_stage_changes", _rows(tables["partner_stage_changes"], {"change_id": "id"}), {}
    )
    counts["memberships"] = _insert(engine, "memberships", _rows(memberships, {}), {})
    counts["opportunities"] = _insert(
        engine, "opportunities", _rows(tables["opportunities"], {"opportunity_id": "id"}), {}
    )
    # The generator may repeat a stage on one day; the store keeps one row per opportunity, day and stage.
    changes = tables["opportunity_stage_changes"]
    first = changes.group_by(["opportunity_crm_id", "changed_on", "stage"]).aggregate([("change_id", "min")])
    changes = changes.filter(pc.is_in(changes.column("change_id"), first.column("change_id_min")))
    counts["opportunity_stage_changes"] = _insert(
        engine,
        "opportunity_stage_changes",
        _rows(changes, {"change_id": "id"}, drop=("opportunity_id",)),
        {},
    )
    counts["partner_touches"] = _insert(
        engine,
        "partner_touches",
        _rows(tables["touches"], {"touch_id": "id"}, drop=("opportunity_id",)),
        {},
    )
    referrals = tables["referrals"]
    directions = pc.if_else(pc.equal(referrals.column("direction"), "in"), "inbound", "outbound")
    statuses = pc.if_else(pc.equal(referrals.column("direction"), "in"), "approved", "accepted")
    submitted = pc.cast(
        pc.cast(referrals.column("created_on"), pa.timestamp("s")), pa.timestamp("s", tz="UTC")
    )
    referrals = (
        referrals.set_column(referrals.column_names.index("direction"), "direction", directions)
        .append_column("status", statuses)
        .set_column(referrals.column_names.index("created_on"), "submitted_at", submitted)
    )
    counts["referrals"] = _insert(
        engine,
        "referrals",
        _rows(referrals, {"referral_id": "id", "declared_value": "estimated_value"}),
        {"kind": "eql", "company": "Referred company", "submitted_via": "internal"},
    )
    return counts


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _serve(url: str, warm: str, folder: Path) -> tuple[subprocess.Popen[bytes], str, Path]:
    port = free_port()
    log = folder / f"serve-{warm}.log"
    env = os.environ | {
        "ECOOPS_DATABASE_URL": url,
        "ECOOPS_WARM_DASHBOARDS": warm,
        "ECOOPS_WORKER": "off",
        "ECOOPS_ENV": "development",
        "ECOOPS_VAR_DIR": str(folder / "var"),
        "ECOOPS_LOG_FORMAT": "text",
    }
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "ecoops"), "serve", "--port", str(port)],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return server, base, log
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    server.kill()
    raise RuntimeError(f"ecoops serve did not start; see {log}")


def _client(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=600, follow_redirects=False)
    page = client.get("/login").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf, "no CSRF token on the login page"
    answer = client.post("/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": csrf.group(1)})
    assert answer.status_code == 303, answer.text[:300]
    return client


def _overview(client: httpx.Client) -> float:
    started = time.perf_counter()
    answer = client.get("/dashboards/overview")
    assert answer.status_code == 200, answer.status_code
    return (time.perf_counter() - started) * 1000


def _readers(base: str, clients: int, requests: int) -> list[float]:
    sessions = [_client(base) for _ in range(clients)]
    latencies: list[float] = []
    lock = threading.Lock()

    def read(client: httpx.Client) -> None:
        for _ in range(requests):
            took = _overview(client)
            with lock:
                latencies.append(took)

    threads = [threading.Thread(target=read, args=(client,)) for client in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies


def _mode(url: str, warm: str, folder: Path, requests: int) -> dict[str, Any]:
    server, base, log = _serve(url, warm, folder)
    try:
        result: dict[str, Any] = {}
        if warm == "on":
            started = time.perf_counter()
            while "dashboards warmed" not in log.read_text(errors="replace"):
                if time.perf_counter() - started > 1800:
                    raise RuntimeError(f"not warmed after 30 min; see {log}")
                time.sleep(0.5)
            result["warmed_log"] = re.findall(
                r"dashboards warmed in [\d.]+ s", log.read_text(errors="replace")
            )
        result["first_ms"] = _overview(_client(base))
        for clients in (1, 8):
            latencies = _readers(base, clients, requests)
            result[clients] = {
                p: _percentile(latencies, q) for p, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))
            }
        return result
    finally:
        server.terminate()
        server.wait(timeout=30)


def _result_rows(session: Session, statement: Any, schema: pa.Schema) -> pa.Table:
    """The baseline read: SQLAlchemy's result rows, each value converted in Python, into Arrow column by
    column (what metrics.feed did before it read through COPY and the driver's own cursor)."""
    rows = session.execute(statement).all()
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in schema]
    arrays = [pa.array(values, type=spec.type) for values, spec in zip(columns, schema, strict=True)]
    return pa.Table.from_arrays(arrays, schema=schema)


def _reading(session: Session, settings: Settings) -> str:
    """How long the feed takes to read the stored records, rows/s, beside the baseline in the same run."""
    from ecoops.metrics import feed

    def timed() -> tuple[float, int]:
        began = time.perf_counter()
        inputs = feed.load_inputs(session, settings.tz).inputs
        rows = sum(getattr(inputs, field.name).num_rows for field in dataclasses.fields(inputs))
        return time.perf_counter() - began, rows

    seconds, rows = timed()
    with mock.patch.object(feed, "_table", _result_rows):
        baseline, _ = timed()
    return (
        f"{seconds:.2f} s, {rows / seconds:,.0f} rows/s; through SQLAlchemy's result rows (baseline)"
        f" {baseline:.2f} s, {rows / baseline:,.0f} rows/s: {baseline / seconds:.1f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--requests", type=int, default=40, help="requests per client")
    parser.add_argument(
        "--database-url",
        default="",
        help="an empty database, or one an earlier run filled (reused as it is); default: a new SQLite file",
    )
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench-dashboards-"))
    url = args.database_url or f"sqlite:///{folder / 'dashboards.db'}"
    engine = make_engine(url)
    migrate(engine)
    with session_factory(engine)() as session:
        filled = session.scalar(select(func.count()).select_from(Opportunity))
    if filled:
        print(f"reusing {url}: {filled} opportunities")
    else:
        started = time.perf_counter()
        tables = generated_records(args.scale, args.seed)
        generated = time.perf_counter()
        counts = load(engine, tables)
        with session_factory(engine)() as session:
            accounts.create_user(
                session, SYSTEM, email=EMAIL, name="Bench", role=Role.ADMIN, password=PASSWORD
            )
            session.commit()
        loaded = time.perf_counter()
        print(f"records: {counts}")
        print(
            f"generated in {generated - started:.1f} s, stored in {loaded - generated:.1f} s"
            f" ({url.split(':')[0]})"
        )

    from ecoops.data_version import data_version
    from ecoops.metrics import service

    settings = Settings(env="development", database_url=url, var_dir=folder / "var")
    with session_factory(engine)() as session:
        versions = []
        for _ in range(20):
            began = time.perf_counter()
            data_version(session)
            versions.append((time.perf_counter() - began) * 1000)
        began = time.perf_counter()
        service.report(session, SYSTEM, settings, service.build_query(settings.today()))
        computed = time.perf_counter() - began
        reading = _reading(session, settings)
    engine.dispose()
    print(
        f"data version (read by every request): median {statistics.median(versions):.1f} ms,"
        f" max {max(versions):.1f} ms"
    )
    print(f"one computation of every figure in this process (feed + snapshot + figures): {computed:.1f} s")
    print(f"reading the records alone (metrics.feed.load_inputs): {reading}")

    results = {warm: _mode(url, warm, folder, args.requests) for warm in ("off", "on")}
    print()
    print(f"GET /dashboards/overview, default filters, {args.requests} requests per client (ms)")
    print(
        f"{'mode':<22}{'first reader':>14}{'1: p50':>9}{'p95':>9}{'p99':>9}{'8: p50':>9}{'p95':>9}{'p99':>9}"
    )
    for warm, label in (("off", "cold (baseline)"), ("on", "kept warm")):
        r = results[warm]
        print(
            f"{label:<22}{r['first_ms']:>14.0f}"
            + "".join(f"{r[c][p]:>9.0f}" for c in (1, 8) for p in ("p50", "p95", "p99"))
        )
    print(f"warming: {results['on'].get('warmed_log')}")
    print(
        f"goal: p95 ≤ {GOAL_P95_MS} ms, the first reader included"
        f" (kept warm: first {results['on']['first_ms']:.0f} ms; "
        f"8 clients p95 {results['on'][8]['p95']:.0f} ms)"
    )


if __name__ == "__main__":
    main()
