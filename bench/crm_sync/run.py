"""First Salesforce sync of N opportunities from the local Salesforce (tests/crm/salesforce_server.py),
beside the floor: a bare loop fetching the same pages into a list with the same client.

    .venv/bin/python bench/crm_sync/run.py --opportunities 100000

The org: N opportunities (a fifth in EUR), N/5 accounts, one stage-history row per opportunity; pages
of 2,000 records (Salesforce's default). The server runs in this process; the floor and the sync each
run in a child process of their own, so each one's peak memory (VmHWM) is its own. The sync writes a
fresh SQLite file. Prints records/s and peak memory of each, and the ratio to the goals (≥ 20,000
records/s end to end, ≤ 1 GB at 1M).
"""

from __future__ import annotations

import argparse
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


def seed(fake: FakeSalesforce, opportunities: int) -> int:
    """Records straight into the server's tables (put() would take a lock and a tick per record)."""
    accounts = max(1, opportunities // 5)
    t = fake.records
    t["OpportunityStage"] = {}
    for n, (label, closed, won) in enumerate(
        [("Prospecting", False, False), ("Closed Won", True, True), ("Closed Lost", True, False)]
    ):
        t["OpportunityStage"][f"01J{n}"] = {
            "Id": f"01J{n}",
            "MasterLabel": label,
            "IsClosed": closed,
            "IsWon": won,
        }
    t["CurrencyType"] = {
        "c1": {"Id": "c1", "IsoCode": "USD", "ConversionRate": 1.0, "IsActive": True},
        "c2": {"Id": "c2", "IsoCode": "EUR", "ConversionRate": 0.8, "IsActive": True},
    }
    moment = stamp(fake.clock)
    t["Account"] = {
        f"001{n:015d}": {
            "Id": f"001{n:015d}",
            "IsDeleted": False,
            "SystemModstamp": moment,
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
    stages = ["Prospecting", "Closed Won", "Closed Lost"]
    t["Opportunity"] = {}
    t["OpportunityHistory"] = {}
    for n in range(opportunities):
        oid = f"006{n:015d}"
        stage = stages[n % 3]
        t["Opportunity"][oid] = {
            "Id": oid,
            "IsDeleted": False,
            "SystemModstamp": moment,
            "AccountId": f"001{n % accounts:015d}",
            "Name": f"Deal {n}",
            "StageName": stage,
            "Amount": 1000.0 + n % 9000,
            "CurrencyIsoCode": "EUR" if n % 5 == 0 else "USD",
            "CloseDate": "2026-03-31",
            "CreatedDate": "2025-06-01T10:00:00.000+0000",
            "IsClosed": stage != "Prospecting",
            "IsWon": stage == "Closed Won",
            "Owner.Name": "Ada Seller",
            "Type": "New Business",
            "LeadSource": "Partner Referral",
            "PartnerAccountId": f"001{n % 7:015d}" if n % 4 == 0 else None,
        }
        hid = f"008{n:015d}"
        t["OpportunityHistory"][hid] = {
            "Id": hid,
            "IsDeleted": False,
            "SystemModstamp": moment,
            "OpportunityId": oid,
            "StageName": stage,
            "Amount": 1000.0 + n % 9000,
            "CreatedDate": "2025-06-01T10:00:00.000+0000",
        }
    return accounts + 2 * opportunities


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_floor(settings_json: str) -> None:
    """The same pages through the same client into a list: what reading alone costs."""
    from ecoops.config import Settings
    from ecoops.crm.salesforce.client import Credentials, SalesforceApi

    given = json.loads(settings_json)
    settings = Settings(env="test", secret_key=SECRET, crm_ca_bundle=given["ca"], var_dir=Path(given["var"]))
    api = SalesforceApi(
        settings,
        Credentials(given["url"], given["client_id"], username=given["username"], private_key=given["key"]),
    )
    started = time.perf_counter()
    rows: list[object] = []
    fields = {
        "Account": "Id, Name, Website, BillingCountry, Industry, Type, Owner.Name, ParentId, "
        "NumberOfEmployees, CreatedDate",
        "Opportunity": "Id, AccountId, Name, StageName, Amount, CurrencyIsoCode, CreatedDate, CloseDate, "
        "IsClosed, IsWon, Owner.Name, Type, LeadSource, PartnerAccountId",
        "OpportunityHistory": "Id, OpportunityId, StageName, CreatedDate, Amount",
    }
    for name, columns in fields.items():
        soql = f"SELECT {columns}, IsDeleted, SystemModstamp FROM {name} ORDER BY SystemModstamp, Id"
        page = api.call(lambda sf, q=soql: sf.query(q, include_deleted=True))
        rows.extend(page["records"])
        while not page["done"]:
            page = api.call(lambda sf, u=page["nextRecordsUrl"]: sf.query_more(u, identifier_is_url=True))
            rows.extend(page["records"])
    print(
        json.dumps({"seconds": time.perf_counter() - started, "records": len(rows), "peak_mib": peak_mib()})
    )


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
    started = time.perf_counter()
    run = SalesforceSync(session_factory(engine), settings, cli_actor("bench"), trigger="cli").run()
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "seconds": seconds,
                "records": run.records,
                "new": run.new,
                "status": run.status,
                "peak_mib": peak_mib(),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--opportunities", type=int, default=100_000)
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
    total = seed(fake, args.opportunities)
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
        }
    )

    def child(kind: str) -> dict[str, float]:
        profile = (
            ["-m", "cProfile", "-o", os.environ["BENCH_PROFILE"] + kind]
            if os.environ.get("BENCH_PROFILE")
            else []
        )
        out = subprocess.run(
            [sys.executable, *profile, __file__, "--child", kind, "--settings", given],
            check=True,
            capture_output=True,
            text=True,
            env=os.environ,
        )
        return json.loads(out.stdout.strip().splitlines()[-1])

    print(
        f"org: {args.opportunities:,} opportunities, {args.opportunities // 5:,} accounts, "
        f"{args.opportunities:,} history rows = {total:,} records; pages of 2,000; the server in this process"
    )
    floor = child("floor")
    sync = child("sync")
    for name, figures in (("floor (pages into a list)", floor), ("first sync into SQLite", sync)):
        rate = figures["records"] / figures["seconds"]
        print(
            f"{name:28} {figures['records']:>10,.0f} records {figures['seconds']:8.1f} s "
            f"{rate:10,.0f} records/s  peak {figures['peak_mib']:7.0f} MiB"
        )
    rate = sync["records"] / sync["seconds"]
    print(
        f"sync status {sync.get('status')}, {sync.get('new', 0):,.0f} new; "
        f"sync / floor time: {sync['seconds'] / floor['seconds']:.2f} times; "
        f"goal ≥ 20,000 records/s: {rate / 20_000:.2f} of it; "
        f"peak {sync['peak_mib']:.0f} MiB (goal ≤ 1024 MiB at 1M)"
    )
    fake.stop()


if __name__ == "__main__":
    main()
