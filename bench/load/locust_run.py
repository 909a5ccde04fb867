"""Load benchmark with locust: 50 people at once on a large workspace on PostgreSQL, served by 1 web
process and then by 2, beside 2 `ecoops worker` processes, in one run.

The workspace is the demo (`ecoops demo`: its people of every role, partner users, overlaps, signed
referral links) plus bench/metrics's generated records (1M opportunities, 5M stage changes, 2M touches,
200k referrals and 500 partners at --scale 1; bench/dashboards stores them), their ids raised past the
demo's. --database-url fills an empty database or reuses one an earlier run filled; without it, a
fresh database on ECOOPS_BENCH_DATABASE_URL (a server URL) or on a throwaway server (tests/pg_server.py).

Web processes are separate `ecoops serve` processes on ports of their own (ECOOPS_WORKER=off), as
compose runs its replicas (docs/running.md: one process per container), and locust's users are spread
over them, user n on process n mod N, as a round-robin balancer would spread people; two `ecoops
worker`s run the jobs and deliveries the writes make. Before measuring, the script waits until every
web process has warmed its dashboards (its log says "dashboards warmed").

Each locust user is one person of tests/web/live_site.py (its own cookie jar, the real sign-in form),
cycling partner manager, seller, partner user; every action is live_site's, picked with bench/load/
run.py's weights (pages: the partner directory, a partner, accounts, referrals, mapping, the portal;
dashboards and the portal's overlaps; API reads and writes; sign-ins; no-login referral forms), with
--wait seconds between actions. Any answer but the expected one is a locust failure. The baseline:
the same users GETting a static file from the same processes, in the same run.

    .venv/bin/python bench/load/locust_run.py [--scale 0.02] [--users 50] [--seconds 60] [--web 1,2]
        [--database-url URL]
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gevent
from locust import User, between, task
from locust.env import Environment
from locust.stats import RequestStats, StatsEntry
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))

from run import MIX, static_file  # noqa: E402  (bench/load/run.py: one mix for both benchmarks)
from tests.web.live_site import (  # noqa: E402
    ECOOPS,
    PARTNER_MANAGER,
    PARTNER_USER,
    SELLER,
    Keys,
    LinkBudget,
    Person,
    Site,
    make_keys,
    running,
    seed_demo,
    serve,
)

from ecoops.accounts.models import User as Account  # noqa: E402
from ecoops.crm.models import Opportunity  # noqa: E402
from ecoops.db import make_engine, migrate, session_factory  # noqa: E402
from ecoops.demo.catcher import running_catchers  # noqa: E402
from ecoops.demo.serve import demo_environment  # noqa: E402

PEOPLE = (PARTNER_MANAGER, SELLER, PARTNER_USER)
ID_OFFSET = 10_000_000  # generated rows' ids start here; the demo's and everything written later stay below
P95_GOAL_MS, P99_GOAL_MS = 200.0, 500.0
SERVER_ENV = {"ECOOPS_WORKER": "off", "ECOOPS_LOG_FORMAT": "text"}


def _dashboards_bench() -> Any:
    """bench/dashboards/run.py, which generates and stores the large workspace (a module named `run`
    like this folder's, hence loaded by path)."""
    spec = importlib.util.spec_from_file_location(
        "dashboards_bench", ROOT / "bench" / "dashboards" / "run.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fill(database_url: str, folder: Path, args: argparse.Namespace) -> Site:
    """The demo, then the generated records, into the database; either is kept when already there."""
    site = Site(database_url, folder / "var")
    engine = make_engine(database_url)
    try:
        migrate(engine)
        with session_factory(engine)() as session:
            people = session.scalar(select(func.count()).where(Account.email == PARTNER_MANAGER))
            large = session.scalar(select(func.count()).where(Opportunity.id >= ID_OFFSET)) or 0
        if not people:
            if large:
                raise SystemExit(
                    f"{database_url} holds generated records but not the demo: give an empty one"
                )
            print(f"seeding the demo ({args.accounts} accounts)", flush=True)
            seed_demo(database_url, site.var_dir, accounts=args.accounts)
        if large:
            print(f"reusing the generated records: {large} opportunities", flush=True)
        else:
            started = time.perf_counter()
            dashboards = _dashboards_bench()
            tables = dashboards.generated_records(args.scale, args.seed, ID_OFFSET)
            counts = dashboards.load(engine, tables)
            print(f"stored in {time.perf_counter() - started:.0f} s: {counts}", flush=True)
    finally:
        engine.dispose()
    return site


class Reporter(Person):
    """A live_site person whose every request is also a locust request event."""

    def __init__(
        self, environment: Environment, url: str, keys: Keys, budget: LinkBudget, email: str, n: int
    ):
        super().__init__(url, keys, budget, email, seed=n)
        self.environment = environment

    def noted(self, where: str, seconds: float, error: str | None, answered: bool = True) -> None:
        method, name = where.split(" ", 1)
        self.environment.events.request.fire(
            request_type=method,
            name=name,
            response_time=seconds * 1000,
            response_length=0,
            response=None,
            context={},
            exception=RuntimeError(error) if error is not None else None,
        )


def user_class(
    hosts: list[str], keys: Keys, budget: LinkBudget, wait: tuple[float, float], baseline: bool
) -> type[User]:
    """Locust users: person n signs in as PEOPLE[n mod 3] on hosts[n mod len(hosts)] and does the mix
    (or, for the baseline, GETs the static file without signing in)."""
    numbers = itertools.count()
    actions: list[Callable[[Person], None]] = list(MIX)
    weights = list(MIX.values())

    class Visitor(User):
        host = hosts[0]
        wait_time = between(*wait)
        started = 0  # users whose sign-in is done (answered or failed)

        def on_start(self) -> None:
            n = next(numbers)
            self.person = Reporter(
                self.environment, hosts[n % len(hosts)], keys, budget, PEOPLE[n % len(PEOPLE)], n
            )
            if not baseline:
                self.person.sign_in()
            Visitor.started += 1

        def on_stop(self) -> None:
            self.person.close()

        @task
        def act(self) -> None:
            if baseline:
                static_file(self.person)
            else:
                self.person.random.choices(actions, weights)[0](self.person)

    return Visitor


@dataclass
class Result:
    label: str
    stats: RequestStats
    seconds: float
    cpu_warning: bool


def swarm(label: str, users: type[User], args: argparse.Namespace, seconds: float) -> Result:
    """Locust headless in this process: spawn every user, wait until all have signed in (50 sign-ins at
    once are argon2 work a steady load does not have), let them warm up, then measure `seconds`."""
    environment = Environment(user_classes=[users])
    runner = environment.create_local_runner()
    try:
        runner.start(args.users, spawn_rate=args.spawn_rate)
        assert runner.spawning_greenlet is not None
        runner.spawning_greenlet.join()
        began = time.perf_counter()
        while getattr(users, "started", args.users) < args.users:
            if time.perf_counter() - began > args.warm_timeout:
                raise SystemExit(f"{label}: not every user signed in after {args.warm_timeout:.0f} s")
            gevent.sleep(0.2)
        print(f"{label}: every user signed in {time.perf_counter() - began:.0f} s after spawning", flush=True)
        gevent.sleep(args.warm_up)
        environment.stats.reset_all()
        started = time.perf_counter()
        gevent.sleep(seconds)
        elapsed = time.perf_counter() - started
        result = Result(label, environment.stats, elapsed, runner.cpu_warning_emitted)
    finally:
        runner.quit()
    print(
        f"{label}: {result.stats.total.num_requests} requests, {result.stats.total.num_failures} errors",
        flush=True,
    )
    return result


def warmed(logs: list[Path], timeout: float) -> None:
    """Wait until every web process has computed its dashboards once (metrics/warm.py logs it)."""
    started = time.perf_counter()
    while not all("dashboards warmed" in log.read_text(errors="replace") for log in logs):
        if time.perf_counter() - started > timeout:
            raise SystemExit(f"dashboards not warmed after {timeout:.0f} s: see {', '.join(map(str, logs))}")
        gevent.sleep(1)
    print(f"dashboards warmed in every web process after {time.perf_counter() - started:.0f} s", flush=True)


def configuration(
    web: int, site: Site, keys: Keys, budget: LinkBudget, env: dict[str, str], args: argparse.Namespace
) -> list[Result]:
    """`web` processes of `ecoops serve` (the workers run beside them already): the baseline first, while
    the servers have nothing else queued, then the mix."""
    with ExitStack() as stack:
        logs = [OUT / f"locust-{web}web-{n}.log" for n in range(web)]
        hosts = [stack.enter_context(serve(site, log, env)) for log in logs]
        warmed(logs, args.warm_timeout)
        label = f"{web} web"
        people = user_class(hosts, keys, budget, args.wait, baseline=False)
        static = user_class(hosts, keys, budget, args.wait, baseline=True)
        return [
            swarm(f"baseline, {label}", static, args, args.baseline_seconds),
            swarm(label, people, args, args.seconds),
        ]


LATENCIES = f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}"


def _ms(entry: StatsEntry, share: float) -> str:
    return f"{entry.get_response_time_percentile(share):.0f}" if entry.num_requests else "-"


def report(results: list[Result], args: argparse.Namespace, opportunities: int) -> None:
    print(
        f"\n{args.users} users, {args.seconds:.0f} s each ({args.baseline_seconds:.0f} s for a baseline), "
        f"wait {args.wait[0]}-{args.wait[1]} s, {opportunities} opportunities, {args.workers} workers; "
        f"machine load {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n"
    )
    header = f"{'configuration':<16} {'requests':>8} {'errors':>6} {'req/s':>7} {LATENCIES}"
    print(header)
    print("-" * len(header))
    for r in results:
        t = r.stats.total
        print(
            f"{r.label:<16} {t.num_requests:>8} {t.num_failures:>6} {t.num_requests / r.seconds:>7.1f} "
            f"{_ms(t, 0.5):>7} {_ms(t, 0.95):>7} {_ms(t, 0.99):>7}"
            + ("  (locust's CPU above 90 %)" if r.cpu_warning else "")
        )
    for r in results:
        if r.label.startswith("baseline"):
            continue
        print(f"\n{r.label} by request: {'requests':>8} {'errors':>6} {LATENCIES}")
        for e in sorted(r.stats.entries.values(), key=lambda e: (e.name, e.method)):
            name = f"{e.method} {e.name}"
            print(
                f"  {name:<40} {e.num_requests:>8} {e.num_failures:>6} {_ms(e, 0.5):>7} {_ms(e, 0.95):>7} "
                f"{_ms(e, 0.99):>7}"
            )
        for error in sorted(r.stats.errors.values(), key=lambda e: -e.occurrences)[:20]:
            print(f"  error x{error.occurrences}: {error.method} {error.name}: {str(error.error)[:200]}")
    for r in results:
        if r.label.startswith("baseline"):
            continue
        t = r.stats.total
        p95, p99 = t.get_response_time_percentile(0.95), t.get_response_time_percentile(0.99)
        met = p95 <= P95_GOAL_MS and p99 <= P99_GOAL_MS and t.num_failures == 0
        print(
            f"goal with {r.label}, p95 <= {P95_GOAL_MS:.0f} ms, p99 <= {P99_GOAL_MS:.0f} ms, 0 errors: "
            f"{'met' if met else 'NOT met'} (p95 {p95:.0f} ms, p99 {p99:.0f} ms, {t.num_failures} errors)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0: 1M opportunities (bench/metrics)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--accounts", type=int, default=300, help="the demo's size (ecoops demo --accounts)")
    parser.add_argument(
        "--database-url", default="", help="a PostgreSQL database to fill, or one filled earlier"
    )
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=float, default=10.0, help="users started per second")
    parser.add_argument("--seconds", type=float, default=60.0, help="measured time per configuration")
    parser.add_argument("--baseline-seconds", type=float, default=10.0)
    parser.add_argument("--warm-up", type=float, default=5.0, help="seconds after spawning, not measured")
    parser.add_argument("--wait", default="0.5,1.5", help="seconds between a user's actions: min,max")
    parser.add_argument("--web", default="1,2", help="web process counts, one configuration each")
    parser.add_argument("--workers", type=int, default=2, help="`ecoops worker` processes")
    parser.add_argument("--warm-timeout", type=float, default=3600.0)
    args = parser.parse_args()
    args.wait = tuple(float(w) for w in args.wait.split(","))
    # Ctrl-C (even when started in the background, where the shell ignores SIGINT) and SIGTERM unwind
    # the ExitStack below, which stops every process this run started.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    OUT.mkdir(parents=True, exist_ok=True)

    results: list[Result] = []
    with ExitStack() as stack:
        folder = Path(tempfile.mkdtemp(prefix="ecoops-locust-"))
        stack.callback(shutil.rmtree, folder, ignore_errors=True)
        database_url = args.database_url
        if not database_url:
            from tests.conftest import fresh_postgres_database
            from tests.pg_server import start_postgres

            admin_url = os.environ.get("ECOOPS_BENCH_DATABASE_URL", "")
            if not admin_url:
                server = start_postgres(max_connections=200)
                stack.callback(server.stop)
                admin_url = server.url
            database_url = fresh_postgres_database(admin_url)
        site = fill(database_url, folder, args)
        keys = make_keys(site)
        budget = LinkBudget(keys.link_tokens)
        # The mail and Slack messages the writes set off reach the demo's catchers (in this process),
        # so the workers deliver them as they would in production instead of retrying for ever.
        catchers = stack.enter_context(running_catchers(folder / "mail"))
        messages = {
            k: v
            for k, v in demo_environment(0, catchers).items()
            if k.startswith(("ECOOPS_SMTP", "ECOOPS_SLACK"))
        }
        env = SERVER_ENV | messages
        for n in range(args.workers):
            stack.enter_context(running([ECOOPS, "worker"], site.env | env, OUT / f"locust-worker-{n}.log"))
        for web in (int(w) for w in args.web.split(",")):
            results += configuration(web, site, keys, budget, env, args)
        engine = make_engine(database_url)
        with session_factory(engine)() as session:
            opportunities = session.scalar(select(func.count()).select_from(Opportunity)) or 0
        engine.dispose()
    report(results, args, opportunities)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)  # the processes are stopped already; no traceback for a Ctrl-C
