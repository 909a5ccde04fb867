"""Write-back of V changed values to the local Salesforce (tests/crm/salesforce_server.py) or the local
HubSpot (tests/crm/hubspot_server.py), beside the floor: a bare loop making the same calls through the
same client — Salesforce: per 200 records a SOQL `Id IN` read and a composite sObject Collections
PATCH; HubSpot: per 100 records a batch read and a batch update.

    .venv/bin/python bench/crm_writeback/run.py --values 100000
    .venv/bin/python bench/crm_writeback/run.py --values 100000 --crm hubspot

The org or portal: V/2 opportunities (deals), each with a referral in ecoops, and two fields
(properties) turned on (the referral's id and its status): V values to write.
The server runs in this process; the write-back (into a fresh
SQLite file's ledger) and the floor each run in a child process. Then a second write-back, with
nothing changed (the ledger answers: no call). Prints seconds and values/s, and the ratio to the goal
(100,000 values ≤ 60 s).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.crm.hubspot_server import FakeHubSpot, iso  # noqa: E402
from tests.crm.salesforce_server import FakeSalesforce, rsa_key_pair, stamp  # noqa: E402

SECRET = "b" * 40
FIELDS = {
    "opportunity_referral": "Ecoops_Referral_Id__c",
    "opportunity_referral_status": "Ecoops_Referral_Status__c",
}
PROPERTIES = {
    "opportunity_referral": "ecoops_referral_id",
    "opportunity_referral_status": "ecoops_referral_status",
}


def _settings(given: dict[str, str]):  # type: ignore[no-untyped-def]
    from ecoops.config import Settings

    return Settings(
        env="test",
        secret_key=SECRET,
        crm_ca_bundle=given.get("ca", ""),
        hubspot_api_url=given.get("url", "") if given["crm"] == "hubspot" else "https://api.hubapi.com",
        var_dir=Path(given["var"]),
        database_url=given["db"],
    )


def child_writeback(given: dict[str, str]) -> dict[str, float]:
    from ecoops.actors import cli_actor
    from ecoops.crm.hubspot.writeback import HUBSPOT
    from ecoops.crm.salesforce.writeback import SALESFORCE
    from ecoops.crm.writeback.provider import run_writeback
    from ecoops.db import make_engine, session_factory

    sessions = session_factory(make_engine(given["db"]))
    settings = _settings(given)
    crm = HUBSPOT if given["crm"] == "hubspot" else SALESFORCE
    started = time.perf_counter()
    run = run_writeback(sessions, settings, cli_actor("bench"), crm, trigger="cli", dry_run=False)
    return {
        "seconds": time.perf_counter() - started,
        "values": run.written,
        "unchanged": run.unchanged,
        "failed": run.failed + run.conflicts,
        "calls": run.calls,
    }


def child_floor(given: dict[str, str]) -> dict[str, float]:
    """The same reads and writes, the values made up front: what the HTTP calls alone cost."""
    if given["crm"] == "hubspot":
        return hubspot_floor(given)
    from ecoops.crm.salesforce.client import Credentials, SalesforceApi

    api = SalesforceApi(
        _settings(given),
        Credentials(given["url"], given["client_id"], username=given["username"], private_key=given["key"]),
    )
    ids = json.loads(Path(given["ids"]).read_text())
    fields = ", ".join(FIELDS.values())
    started = time.perf_counter()
    values = 0
    for start in range(0, len(ids), 200):
        chunk = ids[start : start + 200]
        quoted = ", ".join(f"'{i}'" for i in chunk)
        soql = f"SELECT Id, {fields} FROM Opportunity WHERE Id IN ({quoted})"
        api.call(lambda sf, q=soql: sf.query_all(q))
        body = {
            "allOrNone": False,
            "records": [
                {"attributes": {"type": "Opportunity"}, "id": i, **dict.fromkeys(FIELDS.values(), "floor")}
                for i in chunk
            ],
        }
        results = api.call(lambda sf, b=body: sf.restful("composite/sobjects", method="PATCH", json=b))
        values += 2 * sum(1 for r in results if r["success"])
    return {"seconds": time.perf_counter() - started, "values": values}


def hubspot_floor(given: dict[str, str]) -> dict[str, float]:
    from ecoops.crm.hubspot.client import Credentials, HubSpotApi

    api = HubSpotApi(_settings(given), Credentials("private_app", access_token=given["token"]))
    ids = json.loads(Path(given["ids"]).read_text())
    started = time.perf_counter()
    values = 0
    for start in range(0, len(ids), 100):
        chunk = ids[start : start + 100]
        read = {"inputs": [{"id": i} for i in chunk], "properties": list(PROPERTIES.values())}
        api.call_json("crm.deals.batch_api", "read", batch_read_input_simple_public_object_id=read)
        update = {
            "inputs": [{"id": i, "properties": dict.fromkeys(PROPERTIES.values(), "floor")} for i in chunk]
        }
        answer = api.call_json(
            "crm.deals.batch_api", "update", batch_input_simple_public_object_batch_input=update
        )
        values += 2 * len(answer["results"])
    return {"seconds": time.perf_counter() - started, "values": values}


def seed(
    fake: FakeSalesforce | FakeHubSpot, given: dict[str, str], opportunities: int, private: str
) -> list[str]:
    from sqlalchemy import insert
    from sqlalchemy.orm import Session

    from ecoops.actors import cli_actor
    from ecoops.crm.hubspot import service as hubspot_service
    from ecoops.crm.hubspot.writeback import HUBSPOT
    from ecoops.crm.models import Opportunity
    from ecoops.crm.salesforce import service
    from ecoops.crm.salesforce.writeback import SALESFORCE
    from ecoops.crm.writeback.provider import set_field
    from ecoops.db import make_engine, migrate
    from ecoops.partners.models import Partner
    from ecoops.referrals.models import Referral

    hubspot = isinstance(fake, FakeHubSpot)
    if isinstance(fake, FakeHubSpot):
        ids = [str(10_000_000 + n) for n in range(opportunities)]
        moment = iso(fake.clock)
        fake.records["deals"] = {
            i: {
                "id": i,
                "createdAt": moment,
                "updatedAt": moment,
                "archived": False,
                "properties": {"dealname": f"Deal {n}", "hs_object_id": i, "hs_lastmodifieddate": moment},
            }
            for n, i in enumerate(ids)
        }
        for name in PROPERTIES.values():
            fake.add_property("deals", name)
    else:
        ids = [f"006{n:015d}" for n in range(opportunities)]
        moment = stamp(fake.clock)
        fake.records["Opportunity"] = {
            i: {"Id": i, "IsDeleted": False, "SystemModstamp": moment, "Name": f"Deal {n}"}
            for n, i in enumerate(ids)
        }
        for name in FIELDS.values():
            fake.add_field("Opportunity", name)
    settings = _settings(given)
    engine = make_engine(given["db"])
    migrate(engine)
    admin = cli_actor("bench")
    with Session(engine) as session:
        if isinstance(fake, FakeHubSpot):
            hubspot_service.connect_private_app(session, admin, settings, token=fake.private_token)
        else:
            service.connect_jwt(
                session,
                admin,
                settings,
                login_url=fake.url,
                client_id=fake.client_id,
                username=fake.username,
                private_key=private,
            )
        partner = Partner(
            name="Bench Partner", partner_type="technology", stage="active", stage_since=fake.clock.date()
        )
        session.add(partner)
        session.flush()
        session.execute(insert(Opportunity), [{"crm_id": i, "name": f"Deal {n}"} for n, i in enumerate(ids)])
        session.execute(
            insert(Referral),
            [
                {
                    "direction": "inbound",
                    "kind": "deal_registration",
                    "partner_id": partner.id,
                    "company": f"Company {n}",
                    "status": ("submitted", "approved", "rejected")[n % 3],
                    "submitted_via": "api",
                    "opportunity_crm_id": i,
                }
                for n, i in enumerate(ids)
            ],
        )
        crm = HUBSPOT if hubspot else SALESFORCE
        for target, crm_field in (PROPERTIES if hubspot else FIELDS).items():
            set_field(session, admin, settings, crm, target=target, crm_field=crm_field, enabled=True)
        session.commit()
    engine.dispose()
    return ids


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--values", type=int, default=100_000)
    parser.add_argument("--crm", choices=["salesforce", "hubspot"], default="salesforce")
    parser.add_argument("--child", choices=["floor", "writeback"])
    parser.add_argument("--settings", default="")
    args = parser.parse_args()
    if args.child:
        given = json.loads(args.settings)
        work = child_floor if args.child == "floor" else child_writeback
        print(json.dumps(work(given)))
        return

    folder = Path(tempfile.mkdtemp(prefix="crm-writeback-bench-"))
    private = ""
    fake: FakeSalesforce | FakeHubSpot
    if args.crm == "hubspot":
        fake = FakeHubSpot().start()
        given = {"token": fake.private_token}
    else:
        private, public = rsa_key_pair()
        fake = FakeSalesforce(folder, public_key=public).start()
        given = {"ca": fake.ca_file, "client_id": fake.client_id, "username": fake.username, "key": private}
    given |= {
        "crm": args.crm,
        "var": str(folder / "var"),
        "db": f"sqlite:///{folder / 'bench.db'}",
        "url": fake.url,
        "ids": str(folder / "ids.json"),
    }
    opportunities = args.values // 2
    ids = seed(fake, given, opportunities, private)
    Path(given["ids"]).write_text(json.dumps(ids))

    def child(kind: str) -> dict[str, float]:
        out = subprocess.run(
            [sys.executable, __file__, "--child", kind, "--settings", json.dumps(given)],
            check=True,
            capture_output=True,
            text=True,
        )
        return dict(json.loads(out.stdout.strip().splitlines()[-1]))

    print(
        f"{args.crm}: {opportunities:,} opportunities x 2 fields = {2 * opportunities:,} values; "
        "the server in this process"
    )
    floor = child("floor")
    if isinstance(fake, FakeHubSpot):  # back to empty: the write-back finds them to fill
        for deal in fake.records["deals"].values():
            for name in PROPERTIES.values():
                deal["properties"].pop(name, None)
    else:
        for record in fake.records["Opportunity"].values():
            for name in FIELDS.values():
                record.pop(name, None)
    first = child("writeback")
    second = child("writeback")
    for name, figures in (
        ("floor (same calls, bare loop)", floor),
        ("write-back, first run", first),
    ):
        print(
            f"{name:32} {figures['values']:>9,.0f} values {figures['seconds']:7.1f} s "
            f"{figures['values'] / figures['seconds']:9,.0f} values/s"
        )
    print(
        f"write-back: {first['calls']:,.0f} write calls, {first['failed']:,.0f} failed or in conflict; "
        f"write-back / floor time: {first['seconds'] / floor['seconds']:.2f} times; "
        f"goal 100,000 values ≤ 60 s: "
        f"{first['seconds'] * 100_000 / max(first['values'], 1):.1f} s per 100,000"
    )
    print(
        f"second run, nothing changed: {second['seconds']:.1f} s, {second['values']:,.0f} written, "
        f"{second['unchanged']:,.0f} unchanged, {second['calls']:,.0f} calls"
    )
    fake.stop()


if __name__ == "__main__":
    main()
