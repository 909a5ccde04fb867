"""First and incremental Salesforce syncs from the local Salesforce (tests/crm/salesforce_server.py),
each beside the floor: a bare loop fetching the same answers into a list with the same client.

    .venv/bin/python bench/crm_sync/run.py --opportunities 1000000 --history-per-opp 5 --incremental 10000

The org: N opportunities (a fifth in EUR), N/5 accounts, H stage-history rows per opportunity. The first
sync reads each object (at least `crm_bulk_threshold_records`, 50,000, records) by a Bulk API 2.0 query
job in CSV chunks of 10,000 records; the floor creates the same jobs and fetches the same chunks into a
list. Then `--incremental` opportunities change (an hour later than the first load, past the overlap
window) and the incremental sync reads them by REST `queryAll` pages of 2,000, beside the floor reading
the same pages. The server runs in this process and makes each job's CSV before anything is timed (a
query's CSV is kept until the data changes); the floors and syncs each run in a child process of their
own, so each one's peak memory (VmHWM) is its own. The sync writes a fresh SQLite file. Goals: first
sync ≥ 20,000 records/s end to end and ≤ 1 GB at 1M; incremental of 10,000 ≤ 10 s.

BENCH_PROFILE=/tmp/p_ writes each child's cProfile (/tmp/p_sync-first, …); BENCH_SPLIT=1 prints the
sync's time in write_batch (the import pipeline and the database) apart from the rest.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.crm.salesforce_server import FakeSalesforce, rsa_key_pair, stamp  # noqa: E402

SECRET = "b" * 40


FIELDS = {
    "Account": "Id, Name, Website, BillingCountry, Industry, Type, Owner.Name, ParentId, NumberOfEmployees, "
    "CreatedDate",
    "Opportunity": "Id, AccountId, Name, StageName, Amount, CurrencyIsoCode, CreatedDate, CloseDate, "
    "IsClosed, IsWon, Owner.Name, Type, LeadSource, PartnerAccountId",
    "OpportunityHistory": "Id, OpportunityId, StageName, CreatedDate, Amount",
}  # as the sync asks for them (its describe-settled header), so the floor reads the same answers


def soql(name: str, where: str = "", ordered: bool = False) -> str:
    order = " ORDER BY SystemModstamp, Id" if ordered else ""
    return f"SELECT {FIELDS[name]}, IsDeleted, SystemModstamp FROM {name}{where}{order}"


def seed(fake: FakeSalesforce, opportunities: int, history: int) -> int:
    """Records straight into the server's tables (put() would take a lock and a tick per record)."""
    accounts = max(1, opportunities // 5)
    t = fake.records
    t["OpportunityStage"] = {}
    stages = ["Prospecting", "Negotiation", "Closed Won", "Closed Lost"]
    for n, label in enumerate(stages):
        t["OpportunityStage"][f"01J{n}"] = {
            "Id": f"01J{n}",
            "MasterLabel": label,
            "IsClosed": label.startswith("Closed"),
            "IsWon": label == "Closed Won",
        }
    t["CurrencyType"] = {
        "c1": {"Id": "c1", "IsoCode": "USD", "ConversionRate": 1.0, "IsActive": True},
        "c2": {"Id": "c2", "IsoCode": "EUR", "ConversionRate": 0.8, "IsActive": True},
    }
    # Modified a second apart, oldest first, all before the server's clock (incremental changes after it).
    first = fake.clock - dt.timedelta(seconds=accounts + (1 + history) * opportunities)
    moments = (stamp(first + dt.timedelta(seconds=n)) for n in itertools.count())
    t["Account"] = {
        f"001{n:015d}": {
            "Id": f"001{n:015d}",
            "IsDeleted": False,
            "SystemModstamp": next(moments),
            "Name": f"Account {n}",
            "Website": f"https://www.account{n}.example",
            "BillingCountry": "US",
            "Industry": "Software",
            "Type": "Customer",
            "Owner.Name": "Ada Seller",
            "NumberOfEmployees": n % 5000,
            "CreatedDate": "2025-01-02T10:00:00.000+0000",
        }
        for n in range(accounts)
    }
    t["Opportunity"] = {}
    t["OpportunityHistory"] = {}
    created = [f"2025-0{1 + h % 9}-01T10:00:00.000+0000" for h in range(history)]
    for n in range(opportunities):
        oid = f"006{n:015d}"
        stage = stages[n % 4]
        amount = 1000.0 + n % 9000
        t["Opportunity"][oid] = {
            "Id": oid,
            "IsDeleted": False,
            "SystemModstamp": next(moments),
            "AccountId": f"001{n % accounts:015d}",
            "Name": f"Deal {n}",
            "StageName": stage,
            "Amount": amount,
            "CurrencyIsoCode": "EUR" if n % 5 == 0 else "USD",
            "CloseDate": "2026-03-31",
            "CreatedDate": "2025-06-01T10:00:00.000+0000",
            "IsClosed": stage.startswith("Closed"),
            "IsWon": stage == "Closed Won",
            "Owner.Name": "Ada Seller",
            "Type": "New Business",
            "LeadSource": "Partner Referral",
            "PartnerAccountId": f"001{n % 7:015d}" if n % 4 == 0 else None,
        }
        for h in range(history):
            hid = f"008{n * history + h:015d}"
            t["OpportunityHistory"][hid] = {
                "Id": hid,
                "IsDeleted": False,
                "SystemModstamp": next(moments),
                "OpportunityId": oid,
                "StageName": stages[(n + h) % 4],
                "Amount": amount,
                "CreatedDate": created[h],
            }
    return accounts + (1 + history) * opportunities


def change(fake: FakeSalesforce, count: int) -> str:
    """`count` opportunities changed an hour after the first load (past its overlap window); the time
    the incremental floor reads from."""
    later = fake.clock + dt.timedelta(hours=1)
    table = fake.records["Opportunity"]
    for n, oid in enumerate(list(table)[:count]):
        table[oid] = dict(table[oid], Amount=5.0 + n, SystemModstamp=stamp(later))
    fake.version += 1
    return f"{later - dt.timedelta(minutes=5):%Y-%m-%dT%H:%M:%SZ}"


def peak_mib() -> float:
    """This process's peak resident memory (VmHWM: since its exec, unlike ru_maxrss, which keeps the
    forking parent's, the local Salesforce's org included)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_floor(settings_json: str) -> None:
    """The same answers through the same client into a list: what reading alone costs. First load: each
    object's Bulk API job (created, polled, its CSV chunks); incremental: the REST queryAll pages."""
    from ecoops.config import Settings
    from ecoops.crm.salesforce.client import Credentials, SalesforceApi

    given = json.loads(settings_json)
    settings = Settings(env="test", secret_key=SECRET, crm_ca_bundle=given["ca"], var_dir=Path(given["var"]))
    api = SalesforceApi(
        settings,
        Credentials(given["url"], given["client_id"], username=given["username"], private_key=given["key"]),
    )
    started = time.perf_counter()
    pages: list[str] = []
    records = 0
    if given["since"]:
        q = soql("Opportunity", f" WHERE SystemModstamp >= {given['since']}", ordered=True)
        page = api.call(lambda sf: sf.query(q, include_deleted=True))
        rows: list[object] = list(page["records"])
        while not page["done"]:
            page = api.call(lambda sf, u=page["nextRecordsUrl"]: sf.query_more(u, identifier_is_url=True))
            rows.extend(page["records"])
        records = len(rows)
    for name in FIELDS if not given["since"] else ():
        bulk = getattr(api.client.bulk2, name)._client
        job = bulk.create_job("query", soql(name))
        while bulk.get_job(job["id"], True)["state"] != "JobComplete":
            time.sleep(0.05)
        locator = ""
        while True:
            result = bulk.get_query_results(job["id"], locator, max_records=settings.crm_sync_batch_records)
            pages.append(result["records"])
            records += result["number_of_records"]
            locator = result["locator"]
            if not locator:
                break
    print(json.dumps({"seconds": time.perf_counter() - started, "records": records, "peak_mib": peak_mib()}))


def child_sync(settings_json: str) -> None:
    from ecoops.actors import cli_actor
    from ecoops.config import Settings
    from ecoops.crm.salesforce.sync import SalesforceSync
    from ecoops.db import make_engine, session_factory

    given = json.loads(settings_json)
    settings = Settings(
        env="test",
        secret_key=SECRET,
        crm_ca_bundle=given["ca"],
        var_dir=Path(given["var"]),
        database_url=given["db"],
    )
    engine = make_engine(given["db"])
    # Modules the sync loads at its first batch, and the public-suffix list, loaded before the clock
    # starts: a worker that has synced before has them (a fresh process takes a few seconds more).
    import ecoops.crm.imports.service  # noqa: F401
    from ecoops.crm.imports.domains import account_domain

    account_domain("example.com", "")
    if os.environ.get("BENCH_SPLIT"):  # time spent writing batches, apart from reading
        from ecoops.crm.connections.sync import CrmSync

        original = CrmSync.write_batch
        spent = [0.0]

        def timed(self: CrmSync, batch: object) -> bool:
            t = time.perf_counter()
            try:
                return original(self, batch)  # type: ignore[arg-type]
            finally:
                spent[0] += time.perf_counter() - t

        CrmSync.write_batch = timed  # type: ignore[method-assign]
        import atexit

        atexit.register(lambda: print(f"write_batch {spent[0]:.1f} s", file=sys.stderr))
    started = time.perf_counter()
    run = SalesforceSync(session_factory(engine), settings, cli_actor("bench"), trigger="cli").run()
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "seconds": seconds,
                "records": run.records,
                "new": run.new,
                "updated": run.updated,
                "status": run.status,
                "peak_mib": peak_mib(),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--opportunities", type=int, default=100_000)
    parser.add_argument("--history-per-opp", type=int, default=5)
    parser.add_argument("--incremental", type=int, default=10_000)
    parser.add_argument("--child", choices=["floor", "sync"])
    parser.add_argument("--settings", default="")
    args = parser.parse_args()
    if args.child == "floor":
        child_floor(args.settings)
        return
    if args.child == "sync":
        child_sync(args.settings)
        return

    from sqlalchemy.orm import Session

    from ecoops.actors import cli_actor
    from ecoops.config import Settings
    from ecoops.crm.salesforce import service
    from ecoops.db import make_engine, migrate

    folder = Path(tempfile.mkdtemp(prefix="crm-sync-bench-"))
    private, public = rsa_key_pair()
    fake = FakeSalesforce(folder, public_key=public, page_size=2000).start()
    seeding = time.perf_counter()
    total = seed(fake, args.opportunities, args.history_per_opp)
    for name in FIELDS:  # each job's CSV made now, not while a reader waits
        fake.create_job({"operation": "query", "query": soql(name)})
    seeding = time.perf_counter() - seeding
    db = f"sqlite:///{folder / 'bench.db'}"
    settings = Settings(
        env="test", secret_key=SECRET, crm_ca_bundle=fake.ca_file, var_dir=folder / "var", database_url=db
    )
    engine = make_engine(db)
    migrate(engine)
    with Session(engine) as session:
        service.connect_jwt(
            session,
            cli_actor("bench"),
            settings,
            login_url=fake.url,
            client_id=fake.client_id,
            username=fake.username,
            private_key=private,
        )
        session.commit()
    engine.dispose()
    given = json.dumps(
        {
            "ca": fake.ca_file,
            "var": str(folder / "var"),
            "db": db,
            "url": fake.url,
            "client_id": fake.client_id,
            "username": fake.username,
            "key": private,
            "since": "",
        }
    )
    done: set[str] = set()

    def child(kind: str, given: str) -> dict[str, float]:
        phase = "incremental" if kind in done else "first"
        done.add(kind)
        profile = (
            ["-m", "cProfile", "-o", f"{os.environ['BENCH_PROFILE']}{kind}-{phase}"]
            if os.environ.get("BENCH_PROFILE")
            else []
        )
        out = subprocess.run(
            [sys.executable, *profile, __file__, "--child", kind, "--settings", given],
            check=True,
            stdout=subprocess.PIPE,
            text=True,
            env=os.environ,
        )
        return json.loads(out.stdout.strip().splitlines()[-1])

    print(
        f"org: {args.opportunities:,} opportunities, {args.opportunities // 5:,} accounts, "
        f"{args.opportunities * args.history_per_opp:,} history rows = {total:,} records "
        f"(seeded and the jobs' CSV made in {seeding:.0f} s); the server in this process"
    )

    def show(name: str, figures: dict[str, float]) -> None:
        rate = figures["records"] / figures["seconds"]
        print(
            f"{name:34} {figures['records']:>10,.0f} records {figures['seconds']:8.1f} s "
            f"{rate:10,.0f} records/s  peak {figures['peak_mib']:7.0f} MiB"
        )

    floor = child("floor", given)
    sync = child("sync", given)
    show("first load floor (Bulk CSV chunks)", floor)
    show("first sync into SQLite", sync)
    rate = sync["records"] / sync["seconds"]
    print(
        f"first sync status {sync.get('status')}, {sync.get('new', 0):,.0f} new; "
        f"sync / floor time: {sync['seconds'] / floor['seconds']:.2f} times; "
        f"goal ≥ 20,000 records/s: {rate / 20_000:.2f} of it; "
        f"peak {sync['peak_mib']:.0f} MiB (goal ≤ 1024 MiB at 1M); "
        f"CSV made once for floor and sync: {len(fake.csv_kept) == len(FIELDS)}"
    )
    if args.incremental:
        since = change(fake, args.incremental)
        floor = child("floor", json.dumps(json.loads(given) | {"since": since}))
        sync = child("sync", given)
        show("incremental floor (REST pages)", floor)
        show("incremental sync", sync)
        print(
            f"incremental status {sync.get('status')}, {sync.get('updated', 0):,.0f} updated; "
            f"sync / floor time: {sync['seconds'] / floor['seconds']:.2f} times; goal ≤ 10 s: "
            f"{sync['seconds']:.1f} s"
        )
    fake.stop()


if __name__ == "__main__":
    main()
