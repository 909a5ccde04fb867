"""An admin connects Salesforce in a real browser (the web-server flow's round trip to the local
Salesforce and back), maps a custom field to an ecoops field after previewing it on the org's
records, presses Sync now, sees the worker's run appear by itself, finds a synced account with the
mapped value and a partner that overlaps on it, then turns write-back on for one field and sees the
value arrive in the local Salesforce."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy.orm import Session

from ecoops.automation.worker import Worker
from ecoops.config import Settings
from ecoops.db import session_factory
from tests.browser.conftest import Site, serve, sign_in
from tests.crm.salesforce_server import FakeSalesforce, seed_org
from tests.crm.writeback_setup import overlap
from tests.factories import make_partner

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def salesforce_site(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Site, Settings, FakeSalesforce]]:
    folder = Path(tmp_path_factory.mktemp("salesforce-browser"))
    fake = FakeSalesforce(folder).start()
    seed_org(fake, accounts=2, opportunities=3)
    settings = Settings(
        env="test", var_dir=folder / "var", secret_key="s" * 40, worker="off", crm_ca_bundle=fake.ca_file
    )
    for site in serve(settings):
        settings.public_url = site.url  # the callback Salesforce sends the browser back to
        yield site, settings, fake
    fake.stop()


def test_connect_sync_and_see_the_synced_account(
    browser: Browser, salesforce_site: tuple[Site, Settings, FakeSalesforce], tmp_path: Path
) -> None:
    site, settings, fake = salesforce_site
    context = browser.new_context(
        base_url=site.url, ignore_https_errors=True
    )  # the local Salesforce's own certificate
    context.set_default_timeout(20_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    worker = Worker(session_factory(site.engine), settings.model_copy(update={"worker_poll_seconds": 0.2}))
    thread = threading.Thread(target=worker.run, daemon=True)
    try:
        sign_in(page, "admin@example.com")
        page.get_by_role("link", name="Salesforce").click()
        expect(page.get_by_text("Salesforce is not connected.")).to_be_visible()
        form = page.locator("form[action='/crm/salesforce/connect']")
        form.get_by_label("Login URL").fill(fake.url)
        form.get_by_label("Consumer key").fill(fake.client_id)
        form.get_by_label("Consumer secret").fill(fake.client_secret)
        form.get_by_role("button", name="Connect").click()
        page.get_by_role("link", name="Continue to Salesforce").click()  # there and back
        expect(page.locator(".flash.success")).to_contain_text(
            "Connected to Salesforce org 00D000000000001EAA"
        )
        expect(page.locator("dl.facts")).to_contain_text("api refresh_token")

        # Map a field: the org's custom segment fills Industry, previewed on its records first.
        fake.add_field("Account", "Industry_Segment__c", type="picklist")
        for n, account_id in enumerate(fake.records["Account"]):
            fake.put(
                "Account", {"Id": account_id, "Industry": "Banking", "Industry_Segment__c": f"Segment {n}"}
            )
        page.get_by_role("link", name="Field mapping").click()
        expect(page.get_by_role("heading", name="Salesforce field mapping")).to_be_visible()
        industry = page.get_by_label("Industry: Salesforce field")
        expect(industry).to_have_value("Industry")  # the built-in choice
        industry.select_option("Industry_Segment__c")
        page.get_by_role("button", name="Preview").click()
        preview = page.locator("#preview")
        expect(preview).to_contain_text("Preview: 2 Account records")
        expect(preview).to_contain_text("Segment 1")
        expect(preview).not_to_contain_text("Banking")
        page.screenshot(path=str(tmp_path / "mapping-preview.png"), full_page=True)
        page.get_by_role("button", name="Save").click()
        expect(page.locator(".flash.success")).to_contain_text(
            "Saved: Account reads industry from Industry_Segment__c from the next sync."
        )
        expect(page.get_by_label("Industry: Salesforce field")).to_have_value("Industry_Segment__c")
        page.locator("p.muted").get_by_role("link", name="Salesforce").click()

        page.get_by_role("button", name="Sync now").click()
        expect(page.locator("section.job")).to_contain_text("waiting for the worker")
        thread.start()
        expect(page.locator("section.job")).to_contain_text("Salesforce sync done: 10 new", timeout=60_000)
        page.reload()
        runs = page.locator("section", has=page.get_by_role("heading", name="Runs", exact=True))
        expect(runs.locator("table")).to_contain_text("done")
        page.screenshot(path=str(tmp_path / "synced.png"), full_page=True)

        # A partner lists the synced account: its page shows the mapped value and the overlap.
        account = next(iter(fake.records["Account"]))
        with Session(site.engine) as session:
            overlap(session, make_partner(session, name="Acme Partners"), account, "Customers")
            session.commit()
        page.goto("/accounts?q=Account+0")
        page.get_by_role("link", name="Account 0", exact=True).click()
        expect(page.locator("dl.facts")).to_contain_text("Segment 0")
        expect(page.get_by_role("heading", name="Partners that have it")).to_be_visible()
        partners = page.locator("h2:has-text('Partners that have it') + div table")
        expect(partners).to_contain_text("Acme Partners")
        expect(partners).to_contain_text("Customers")

        # Write-back: the field made in Salesforce, turned on here; the worker writes the value.
        fake.add_field("Account", "Ecoops_Partners__c")
        page.get_by_role("link", name="Salesforce").first.click()
        field = page.locator("form[action='/crm/salesforce/writeback/fields/account_partners']")
        field.get_by_label("Overlapping partners: Salesforce field").fill("Ecoops_Partners__c")
        field.get_by_label("Overlapping partners: write").check()
        field.get_by_role("button", name="Save").click()
        expect(page.locator(".flash.success")).to_contain_text("is written to Ecoops_Partners__c")
        page.get_by_role("button", name="Write back now").click()
        expect(page.locator("#writeback section.job")).to_contain_text("1 values written", timeout=60_000)
        assert fake.records["Account"][account]["Ecoops_Partners__c"] == "Acme Partners"
        page.screenshot(path=str(tmp_path / "written-back.png"), full_page=True)
    finally:
        worker.stop()
        if thread.is_alive():
            thread.join(timeout=15)
        context.close()
    assert not errors, f"the browser reported errors: {errors}"
