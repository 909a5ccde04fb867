"""First HubSpot sync of N deals from the local HubSpot (tests/crm/hubspot_server.py), beside the floor:
a bare loop fetching the same search pages (and the deals' history and associations) into a list with
the same client, hubspot-api-client.

    .venv/bin/python bench/crm_sync/hubspot_sync.py --deals 20000

The portal: N deals (each with two stage-history entries and its company), N/5 companies; search pages
of 200, history by batch reads of 50, associations by batches of 1,000 (HubSpot's most). The server,
the floor and the sync share this process (the server's threads cost both alike); the sync writes a
fresh SQLite file. Prints records/s of each and the sync's time over the floor's.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.crm.hubspot_server import FakeHubSpot  # noqa: E402

SECRET = "b" * 40
STAMP = "2026-01-05T09:00:00.000Z"


def seed(fake: FakeHubSpot, deals: int) -> int:
    """Records straight into the server's tables (put() takes a lock and a tick per record)."""
    companies = max(1, deals // 5)
    fake.owners = [{"id": "501", "email": "ada@example.com", "firstName": "Ada", "lastName": "Seller"}]
    fake.records["companies"] = {
        str(n): {
            "id": str(n),
            "createdAt": STAMP,
            "updatedAt": STAMP,
            "archived": False,
            "properties": {
                "name": f"Company {n}",
                "domain": f"company{n}.example",
                "country": "United States",
                "hubspot_owner_id": "501",
                "createdate": STAMP,
                "hs_lastmodifieddate": STAMP,
                "hs_object_id": str(n),
            },
        }
        for n in range(1, companies + 1)
    }
    fake.records["deals"] = {}
    for n in range(1, deals + 1):
        deal = str(10_000_000 + n)
        fake.records["deals"][deal] = {
            "id": deal,
            "createdAt": STAMP,
            "updatedAt": STAMP,
            "archived": False,
            "properties": {
                "dealname": f"Deal {n}",
                "dealstage": "closedwon" if n % 2 else "contractsent",
                "pipeline": "default",
                "amount": str(1000 + n),
                "deal_currency_code": "USD",
                "closedate": "2026-03-31T00:00:00.000Z",
                "hubspot_owner_id": "501",
                "createdate": STAMP,
                "hs_lastmodifieddate": STAMP,
                "hs_object_id": deal,
            },
        }
        fake.history[deal] = [
            ("appointmentscheduled", "2026-01-02T10:00:00.000Z"),
            ("closedwon" if n % 2 else "contractsent", "2026-01-04T10:00:00.000Z"),
        ]
        fake.companies_of[deal] = [(str(1 + n % companies), True)]
    return companies + deals + 2 * deals


def floor(settings: object, token: str) -> int:
    """Every search page of both objects, and the deals' history and companies, into a list."""
    from ecoops.crm.hubspot.client import Credentials, HubSpotApi
    from ecoops.crm.hubspot.sync import COMPANIES, DEALS

    api = HubSpotApi(settings, Credentials("private_app", access_token=token))  # type: ignore[arg-type]
    rows: list[object] = []
    for spec in (COMPANIES, DEALS):
        after = ""
        while True:
            request = {"properties": list(spec.properties), "limit": 200} | (
                {"after": after} if after else {}
            )
            page = api.call(f"crm.{spec.name}.search_api", "do_search", public_object_search_request=request)
            rows.extend(page.results)
            if spec is DEALS:
                ids = [{"id": r.id} for r in page.results]
                for start in range(0, len(ids), 50):
                    body = {"inputs": ids[start : start + 50], "propertiesWithHistory": ["dealstage"]}
                    answer = api.call(
                        "crm.deals.batch_api", "read", batch_read_input_simple_public_object_id=body
                    )
                    rows.extend(h for r in answer.results for h in r.properties_with_history["dealstage"])
                api.call(
                    "crm.associations.v4.batch_api",
                    "get_page",
                    from_object_type="deals",
                    to_object_type="companies",
                    batch_input_public_fetch_associations_batch_request={"inputs": ids},
                )
            if page.paging is None:
                break
            after = page.paging.next.after
    return len(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deals", type=int, default=20_000)
    args = parser.parse_args()

    from sqlalchemy.orm import Session

    from ecoops.actors import cli_actor
    from ecoops.config import Settings
    from ecoops.crm.hubspot import service
    from ecoops.crm.hubspot.sync import HubSpotSync
    from ecoops.db import make_engine, migrate, session_factory

    folder = Path(tempfile.mkdtemp(prefix="hubspot-sync-bench-"))
    fake = FakeHubSpot().start()
    fake.search_cap = 10**9  # the bench reads one object as one query (the cap's re-search has its test)
    total = seed(fake, args.deals)
    db = f"sqlite:///{folder / 'bench.db'}"
    settings = Settings(
        env="test", secret_key=SECRET, var_dir=folder / "var", database_url=db, hubspot_api_url=fake.url
    )
    engine = make_engine(db)
    migrate(engine)
    with Session(engine) as session:
        service.connect_private_app(session, cli_actor("bench"), settings, token=fake.private_token)
        session.commit()
    print(
        f"portal: {args.deals:,} deals, {args.deals // 5:,} companies, {2 * args.deals:,} history entries "
        f"= {total:,} records; search pages of 200; server, floor and sync in this process"
    )
    started = time.perf_counter()
    read = floor(settings, fake.private_token)
    floor_seconds = time.perf_counter() - started
    started = time.perf_counter()
    run = HubSpotSync(session_factory(engine), settings, cli_actor("bench"), trigger="cli").run()
    sync_seconds = time.perf_counter() - started
    for name, records, seconds in (
        ("floor (pages into a list)", read, floor_seconds),
        ("first sync into SQLite", run.records, sync_seconds),
    ):
        print(f"{name:28} {records:>10,} records {seconds:8.1f} s {records / seconds:10,.0f} records/s")
    ratio = sync_seconds / floor_seconds
    print(f"sync status {run.status}, {run.new:,} new; sync / floor time: {ratio:.2f} times")
    fake.stop()
    engine.dispose()


if __name__ == "__main__":
    main()
