"""Benchmark of delivery: domain events through the outbox, a rule and `ecoops worker` to a local receiver.

For each setup (SQLite with one worker; PostgreSQL with 1, 2 and 4 workers) it starts fresh
`ecoops worker` processes against a fresh database holding one enabled rule (every "partner list
uploaded" event → a signed webhook to a local HTTP receiver), waits until they deliver a warm-up
event, then measures:

- throughput: N events committed in one transaction (a backlog), events/s from the commit until the
  receiver has every one (dispatch into deliveries, claim, sign, POST, mark delivered included);
- latency: events committed one by one at a steady rate below capacity; for each, the time from
  its commit to its arrival at the receiver (p50, p99). It includes the workers' poll interval.

Baseline in the same run: the receiver's own ceiling, POSTing the same signed body from one thread.
CPU is the workers' user+system time during the throughput phase (from /proc), beside wall time.

    .venv/bin/python bench/delivery/run.py [--events 1000] [--rate 5] [--seconds 10] [--no-postgres]

PostgreSQL is ECOOPS_BENCH_DATABASE_URL when set, else a throwaway server (tests/pg_server.py).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "bench" / "out"
ECOOPS = str(Path(sys.executable).parent / "ecoops")
POLL_SECONDS = 0.1
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class Receiver:
    """A threaded local HTTP server noting when each event (by its uid in the body) first arrives."""

    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}
        self.requests = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                at = time.time()
                event = json.loads(body)["data"].get("event") or {}
                with receiver.lock:
                    receiver.requests += 1
                    receiver.arrivals.setdefault(str(event.get("uid", "")), at)
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, uids: set[str], timeout: float) -> float:
        """Block until every uid arrived; the time the last one did."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if uids <= self.arrivals.keys():
                    return max(self.arrivals[u] for u in uids)
            time.sleep(0.01)
        with self.lock:
            missing = len(uids - self.arrivals.keys())
        raise TimeoutError(f"{missing} of {len(uids)} events not delivered within {timeout:.0f}s")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def setup_database(url: str, endpoint_url: str) -> None:
    from ecoops.actors import SYSTEM
    from ecoops.automation import rules
    from ecoops.automation.conditions import Conditions
    from ecoops.automation.endpoint_admin import new_secret
    from ecoops.automation.endpoints import WebhookEndpoint
    from ecoops.db import make_engine, migrate, session_factory, transaction
    from ecoops.events.models import EventKind

    engine = make_engine(url)
    migrate(engine)
    with transaction(session_factory(engine)) as session:
        endpoint = WebhookEndpoint(
            name="bench", url=endpoint_url, secret=new_secret(), allow_private=True, enabled=True
        )
        endpoint.disabled_reason = endpoint.last_error = ""
        session.add(endpoint)
        session.flush()
        action = rules.Action(kind="webhook", to="endpoint", value=str(endpoint.id))
        data = rules.RuleInput(
            name="bench",
            trigger=EventKind.PARTNER_LIST_UPLOADED.value,
            conditions=Conditions(),
            actions=[action],
        )
        rules.create_rule(session, SYSTEM, data, enabled=True)
    engine.dispose()


class Producer:
    """Commits events into the outbox, as a domain would (emit in the transaction of the change)."""

    def __init__(self, url: str) -> None:
        from ecoops.db import make_engine, session_factory

        self.engine = make_engine(url)
        self.factory = session_factory(self.engine)

    def commit(self, count: int) -> tuple[list[str], float]:
        """`count` events in one transaction; their uids and the moment the commit returned."""
        from ecoops.db import transaction
        from ecoops.events import EventKind, emit

        with transaction(self.factory) as session:
            uids = [emit(session, EventKind.PARTNER_LIST_UPLOADED, rows=n).uid for n in range(count)]
        return uids, time.time()

    def close(self) -> None:
        self.engine.dispose()


@dataclass
class Result:
    setup: str
    workers: int
    events: int
    seconds: float
    worker_cpu: float
    p50_ms: float
    p99_ms: float
    latency_events: int

    @property
    def per_second(self) -> float:
        return self.events / self.seconds


def run_setup(label: str, url: str, workers: int, args: argparse.Namespace) -> Result:
    receiver = Receiver()
    setup_database(url, receiver.url)
    env = {
        **os.environ,
        "ECOOPS_DATABASE_URL": url,
        "ECOOPS_WORKER_POLL_SECONDS": str(POLL_SECONDS),
    }
    log = OUT / f"delivery-{label.replace(' ', '-')}-{workers}.log"
    with log.open("wb") as out:
        processes = [
            subprocess.Popen([ECOOPS, "worker"], env=env, stdout=out, stderr=out) for _ in range(workers)
        ]
    producer = Producer(url)
    try:
        warm, _ = producer.commit(1)
        receiver.wait_for(set(warm), timeout=120)  # the workers have started and are polling

        cpu_before = sum(cpu_seconds(p.pid) for p in processes)
        uids, committed = producer.commit(args.events)
        last = receiver.wait_for(set(uids), timeout=600)
        cpu = sum(cpu_seconds(p.pid) for p in processes) - cpu_before
        seconds = last - committed

        period = 1.0 / args.rate
        next_at = time.monotonic()
        sent: dict[str, float] = {}
        while len(sent) < int(args.rate * args.seconds):
            time.sleep(max(0.0, next_at - time.monotonic()))
            [uid], at = producer.commit(1)
            sent[uid] = at
            next_at += period
        receiver.wait_for(set(sent), timeout=120)
        latencies = sorted(receiver.arrivals[u] - at for u, at in sent.items())
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=60)
        producer.close()
        receiver.server.shutdown()
    quantiles = statistics.quantiles(latencies, n=100, method="inclusive")
    return Result(
        label, workers, args.events, seconds, cpu, quantiles[49] * 1000, quantiles[98] * 1000, len(sent)
    )


def baseline(count: int) -> float:
    """Requests/s one thread can POST to the same kind of receiver: the ceiling of the measuring setup."""
    import httpx

    receiver = Receiver()
    body = json.dumps({"type": "x", "data": {"event": {"uid": "u"}, "message": {}}}).encode()
    with httpx.Client() as client:
        started = time.perf_counter()
        for _ in range(count):
            client.post(receiver.url, content=body, headers={"content-type": "application/json"})
        seconds = time.perf_counter() - started
    receiver.server.shutdown()
    return count / seconds


def fresh_postgres(admin_url: str) -> str:
    import psycopg

    name = f"ecoops_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + "/" + name


def report(results: list[Result], ceiling: float, args: argparse.Namespace) -> None:
    print(
        f"\n{args.events} events per throughput run; latency at {args.rate}/s for {args.seconds}s; "
        f"worker poll {POLL_SECONDS}s; machine load {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n"
    )
    header = (
        f"{'setup':<12} {'workers':>7} {'events/s':>9} {'wall s':>7} {'worker CPU s':>12} "
        f"{'CPU ms/event':>12} {'p50 ms':>7} {'p99 ms':>7}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r.setup:<12} {r.workers:>7} {r.per_second:>9.0f} {r.seconds:>7.1f} {r.worker_cpu:>12.1f} "
            f"{1000 * r.worker_cpu / r.events:>12.1f} {r.p50_ms:>7.0f} {r.p99_ms:>7.0f}"
        )
    print(f"\nbaseline: one thread POSTing straight to the receiver, no database: {ceiling:,.0f} requests/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000, help="events in the throughput backlog")
    parser.add_argument("--rate", type=float, default=5.0, help="events/s in the latency phase")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the latency phase")
    parser.add_argument("--workers", default="1,2,4", help="PostgreSQL worker counts")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    OUT.mkdir(parents=True, exist_ok=True)

    results: list[Result] = []
    sqlite_db = OUT / "delivery-bench.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{sqlite_db}{suffix}").unlink(missing_ok=True)
    results.append(run_setup("SQLite", f"sqlite:///{sqlite_db}", 1, args))
    print(f"SQLite done: {results[-1].per_second:.0f} events/s", flush=True)

    if not args.no_postgres:
        server = None
        admin_url = os.environ.get("ECOOPS_BENCH_DATABASE_URL", "")
        if not admin_url:
            from tests.pg_server import start_postgres

            server = start_postgres()
            admin_url = server.url
        try:
            for workers in (int(w) for w in args.workers.split(",")):
                results.append(run_setup("PostgreSQL", fresh_postgres(admin_url), workers, args))
                print(f"PostgreSQL x{workers} done: {results[-1].per_second:.0f} events/s", flush=True)
        finally:
            if server is not None:
                server.stop()
    report(results, baseline(1000), args)


if __name__ == "__main__":
    main()
