"""Load benchmark: the demo served by `ecoops serve`, 1, 8 and 32 people at once, SQLite and PostgreSQL.

For each backend it seeds `ecoops demo` into a fresh database, starts `ecoops serve` (one uvicorn
process, the in-process worker running, as `make demo` does) and, after a short warm-up, runs each
client count for --seconds. Every client is a thread with its own httpx client and cookie jar; it
signs in through the login form, then picks actions at random with these weights:

    staff page views 4 (/, partners, accounts, referrals, mapping; the partner user: its portal),
    dashboards 2, API reads 4 (/api/v1/me, /api/v1/accounts), API writes 2 (create a partner or a
    referral), sign-ins 1 (the real form, CSRF token included), no-login submissions 1 (a signed
    link's form: GET for the nonce, then POST).

Each HTTP request is one sample: req/s counts them over the wall time, p50/p95/p99 are their
latencies, errors are answers other than the one a person expects (5xx, resets, timeouts, 4xx).
Baseline in the same run: the same clients GETting a static file from the same server, i.e. the
floor set by the client, uvicorn and the middleware without any database work.

    .venv/bin/python bench/load/run.py [--clients 1,8,32] [--seconds 20] [--accounts 5000] [--no-postgres]

PostgreSQL is ECOOPS_BENCH_DATABASE_URL (a server URL) when set, else a throwaway server
(tests/pg_server.py). Client and server share the machine: on 2 cores, 32 client threads take CPU
from the server, which the baseline rows show.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import sys
import tempfile
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))

from tests.web.live_site import (  # noqa: E402
    Action,
    Keys,
    LinkBudget,
    Person,
    Tally,
    make_keys,
    run_people,
    seed_demo,
    serve,
)

MIX: dict[Action, int] = {
    Person.page: 4,
    Person.dashboard: 2,
    Person.api_read: 4,
    Person.api_write: 2,
    Person.sign_in: 1,
    Person.no_login: 1,
}
MAX_ACTIONS = 100_000  # per client and level; the time bound ends a level first
WARM_UP_SECONDS = 3.0
P95_GOAL_MS = 200.0


def static_file(person: Person) -> None:
    person.request("GET", "/static/app.css", (200,))


@dataclass
class Row:
    backend: str
    clients: int
    tally: Tally
    seconds: float

    def quantile_ms(self, q: int, route: str | None = None) -> float:
        latencies = [s for r, s in self.tally.timings if route is None or r == route]
        if len(latencies) < 2:
            return float("nan")
        return 1000 * statistics.quantiles(latencies, n=100, method="inclusive")[q - 1]


def measure(backend: str, url: str, keys: Keys, budget: LinkBudget, args: argparse.Namespace) -> list[Row]:
    run_people(url, keys, budget, clients=4, seconds=WARM_UP_SECONDS, mix=MIX, max_actions=MAX_ACTIONS)
    rows = []
    for clients in args.clients:
        tally, seconds = run_people(
            url, keys, budget, clients=clients, seconds=args.seconds, mix=MIX, max_actions=MAX_ACTIONS
        )
        rows.append(Row(backend, clients, tally, seconds))
        print(f"{backend} x{clients}: {tally.requests} requests, {len(tally.errors)} errors", flush=True)
    return rows


def baseline(url: str, keys: Keys, args: argparse.Namespace) -> list[Row]:
    rows = []
    for clients in args.clients:
        tally, seconds = run_people(
            url,
            keys,
            LinkBudget([]),
            clients=clients,
            seconds=args.baseline_seconds,
            mix={static_file: 1},
            max_actions=MAX_ACTIONS,
            sign_in_first=False,
        )
        rows.append(Row("baseline", clients, tally, seconds))
    return rows


def run_backend(backend: str, database_url: str, folder: Path, args: argparse.Namespace) -> list[Row]:
    print(f"{backend}: seeding the demo ({args.accounts} accounts)", flush=True)
    site = seed_demo(database_url, folder / "var", accounts=args.accounts)
    keys = make_keys(site)
    budget = LinkBudget(keys.link_tokens)
    with serve(site, OUT / f"load-{backend.lower()}.log") as url:
        rows = measure(backend, url, keys, budget, args)
        if backend == "SQLite":
            rows += baseline(url, keys, args)
    return rows


def report(rows: list[Row], args: argparse.Namespace) -> None:
    print(
        f"\n{args.seconds:.0f} s per level ({args.baseline_seconds:.0f} s for the baseline), demo with "
        f"{args.accounts} accounts; machine load {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n"
    )
    header = (
        f"{'backend':<10} {'clients':>7} {'requests':>8} {'errors':>6} {'req/s':>7} "
        f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r.backend:<10} {r.clients:>7} {r.tally.requests:>8} {len(r.tally.errors):>6} "
            f"{r.tally.requests / r.seconds:>7.1f} {r.quantile_ms(50):>7.0f} {r.quantile_ms(95):>7.0f} "
            f"{r.quantile_ms(99):>7.0f}"
        )
    for r in rows:
        if r.tally.errors:
            print(f"\n{r.backend} x{r.clients}, errors by route:\n{r.tally.summary()}")
    for r in rows:
        if r.clients == 8 and r.backend != "baseline":
            print(f"\n{r.backend} x8 by route: {'requests':>8} {'p50 ms':>7} {'p95 ms':>7}")
            for route, count in sorted(Counter(route for route, _ in r.tally.timings).items()):
                p50, p95 = r.quantile_ms(50, route), r.quantile_ms(95, route)
                print(f"  {route:<40} {count:>8} {p50:>7.0f} {p95:>7.0f}")
    measured = [r for r in rows if r.backend != "baseline"]
    errors = sum(len(r.tally.errors) for r in measured)
    print(f"\ngoal, 0 errors at every level: {'met' if errors == 0 else f'NOT met ({errors} errors)'}")
    at_8 = [r for r in measured if r.backend == "SQLite" and r.clients == 8]
    if at_8:
        p95 = at_8[0].quantile_ms(95)
        verdict = "met" if p95 <= P95_GOAL_MS else "NOT met"
        print(f"goal, p95 <= {P95_GOAL_MS:.0f} ms at 8 clients on SQLite: {verdict} ({p95:.0f} ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="1,8,32", help="client counts, comma-separated")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each level")
    parser.add_argument("--baseline-seconds", type=float, default=5.0)
    parser.add_argument("--accounts", type=int, default=5000, help="the demo's size (ecoops demo --accounts)")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    args.clients = [int(c) for c in args.clients.split(",")]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # so the servers and the data are cleaned up
    OUT.mkdir(parents=True, exist_ok=True)

    rows: list[Row] = []
    with ExitStack() as stack:
        folder = Path(tempfile.mkdtemp(prefix="ecoops-load-"))
        stack.callback(shutil.rmtree, folder, ignore_errors=True)
        rows += run_backend("SQLite", f"sqlite:///{folder / 'ecoops.db'}", folder / "sqlite", args)
        if not args.no_postgres:
            from tests.conftest import fresh_postgres_database
            from tests.pg_server import start_postgres

            admin_url = os.environ.get("ECOOPS_BENCH_DATABASE_URL", "")
            if not admin_url:
                server = start_postgres()
                stack.callback(server.stop)
                admin_url = server.url
            rows += run_backend("PostgreSQL", fresh_postgres_database(admin_url), folder / "pg", args)
    report(rows, args)


if __name__ == "__main__":
    main()
