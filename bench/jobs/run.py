"""How long a web write waits on SQLite while a partner's mapping run works, as a job and as the one
transaction it used to be.

A writer thread commits one small row every 20 ms (as a sign-in or a form would) while the mapping of
N of our accounts against a partner's list of about N runs: first as the worker's job (matching in a
read-only transaction, storing in a short write transaction), then as one write transaction (how the
web's background task ran it, which with BEGIN IMMEDIATE holds the write lock throughout).

    python bench/jobs/run.py --size 100000
"""

from __future__ import annotations

import argparse
import csv
import math
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from sqlalchemy import delete, insert
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # bench.mapping.generate

from bench.mapping.generate import generate

from ecoops import audit
from ecoops.actors import SYSTEM
from ecoops.config import Settings
from ecoops.crm.models import Account
from ecoops.db import make_engine, migrate, session_factory, transaction
from ecoops.jobs import queue
from ecoops.jobs.names import MAPPING, mapping_subject
from ecoops.mapping import runs, uploads
from ecoops.mapping.models import MappingRun
from ecoops.partners.models import Partner


def _seed(sessions: sessionmaker[Session], folder: Path, size: int) -> int:
    tables = generate(size)
    ours, theirs = tables["ours"].to_pylist(), tables["theirs"].to_pylist()
    with transaction(sessions) as session:
        partner = Partner(
            name="Bench Partner", partner_type="technology", stage="active", stage_since=date.today()
        )
        session.add(partner)
        session.flush()
        session.execute(
            insert(Account),
            [
                {"crm_id": r["id"], "name": r["name"], "website": r["website"], "country": r["country"]}
                for r in ours
            ],
        )
        partner_id = partner.id
    path = folder / "partner.csv"
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["Account ID", "Account Name", "Website", "Billing Country", "Population"])
        writer.writerows([r["id"], r["name"], r["website"], r["country"], "Customers"] for r in theirs)
    with transaction(sessions) as session:
        uploads.upload_partner_list(session, SYSTEM, partner_id, path, "partner.csv")
    return partner_id


def _forget_runs(sessions: sessionmaker[Session], partner_id: int) -> None:
    """So the next run maps again instead of finding its input unchanged."""
    with transaction(sessions) as session:
        session.execute(delete(MappingRun).where(MappingRun.partner_id == partner_id))


def _as_job(sessions: sessionmaker[Session], settings: Settings, partner_id: int) -> None:
    with transaction(sessions) as session:
        queue.enqueue(
            session,
            SYSTEM,
            MAPPING,
            subject=mapping_subject(partner_id),
            arguments={"partner_id": partner_id},
            partner_id=partner_id,
        )
    assert queue.work_once(sessions, settings) == "done"


def _one_transaction(sessions: sessionmaker[Session], _settings: Settings, partner_id: int) -> None:
    with transaction(sessions) as session:
        runs.run_mapping(session, SYSTEM, partner_id, today=date.today())


def _measure(
    sessions: sessionmaker[Session],
    settings: Settings,
    partner_id: int,
    mapping: Callable[[sessionmaker[Session], Settings, int], None],
) -> tuple[float, list[float]]:
    """The mapping's seconds, and each small write's wait in milliseconds meanwhile."""
    waits: list[float] = []
    done = threading.Event()

    def writer() -> None:
        while not done.is_set():
            started = time.perf_counter()
            with transaction(sessions) as session:
                audit.record(session, SYSTEM, "bench.write", "bench")
            waits.append((time.perf_counter() - started) * 1000)
            done.wait(0.02)

    thread = threading.Thread(target=writer)
    _forget_runs(sessions, partner_id)
    started = time.perf_counter()
    thread.start()
    mapping(sessions, settings, partner_id)
    seconds = time.perf_counter() - started
    done.set()
    thread.join()
    return seconds, waits


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        settings = Settings(env="test", var_dir=folder, secret_key="b" * 40)
        engine = make_engine(settings.effective_database_url)
        migrate(engine)
        sessions = session_factory(engine)
        partner_id = _seed(sessions, folder, args.size)
        print(f"SQLite, {args.size:,} of our accounts against the partner's list (writer every 20 ms)")
        print(f"{'mapping':<18} {'seconds':>8} {'writes':>7} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>9}")
        for name, mapping in (("as a job", _as_job), ("one transaction", _one_transaction)):
            seconds, waits = _measure(sessions, settings, partner_id, mapping)
            p95 = sorted(waits)[math.ceil(0.95 * len(waits)) - 1]  # nearest rank
            print(
                f"{name:<18} {seconds:>8.2f} {len(waits):>7} {statistics.median(waits):>8.1f} "
                f"{p95:>8.1f} {max(waits):>9.1f}"
            )
        engine.dispose()


if __name__ == "__main__":
    main()
