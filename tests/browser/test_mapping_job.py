"""A partner manager uploads a partner's list in a real browser, sees the mapping run queued, and sees
its result appear once the worker has run it, without reloading the page by hand."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from ecoops.automation.worker import Worker
from ecoops.config import Settings
from ecoops.db import session_factory
from tests.browser.conftest import Site, serve, sign_in

pytestmark = pytest.mark.browser

PARTNER_LIST = (
    "Account ID,Account Name,Website,Billing Country,Population\n"
    "T1,Account 01,account1.example,DE,Customers\n"
    "T2,Account 02,https://www.account2.example,DE,Customers\n"
    "T3,Account 03,account3.example,FR,Prospects\n"
    "T4,Nobody We Know,nobody.example,FR,Prospects\n"
)


@pytest.fixture(scope="module")
def quiet_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, Settings]]:
    """The seeded app with its worker off, so the test sees the run queued before a worker starts."""
    folder = Path(tmp_path_factory.mktemp("jobs-browser"))
    settings = Settings(
        env="test", var_dir=folder, secret_key="w" * 40, worker="off", worker_poll_seconds=0.2
    )
    for site in serve(settings):
        yield site, settings


def test_an_uploaded_list_is_mapped_by_the_worker_and_the_page_shows_it_by_itself(
    browser: Browser, quiet_site: tuple[Site, Settings], tmp_path: Path
) -> None:
    site, settings = quiet_site
    context = browser.new_context(base_url=site.url)
    context.set_default_timeout(20_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    fast = settings.model_copy(update={"worker_poll_seconds": 0.2})
    worker = Worker(session_factory(site.engine), fast)  # the worker `ecoops worker` runs
    thread = threading.Thread(target=worker.run, daemon=True)
    try:
        sign_in(page, "pm@example.com")
        page.goto("/mapping")
        page.get_by_role("link", name="Aurora Analytics").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Mapping with Aurora Analytics")
        csv = tmp_path / "aurora-accounts.csv"
        csv.write_text(PARTNER_LIST, encoding="utf-8")
        page.get_by_label(re.compile("Partner's export")).set_input_files(csv)
        page.get_by_role("button", name="Upload and map").click()

        expect(page.locator(".flash.success")).to_contain_text("4 accounts stored; mapping queued")
        job = page.locator("section.job")
        expect(job).to_contain_text("Mapping run")
        expect(job).to_contain_text("waiting for the worker")
        expect(page.get_by_text("Not mapped yet.")).to_be_visible()

        page.screenshot(path=str(tmp_path / "queued.png"), full_page=True)
        thread.start()  # the worker comes: the page polls the run and shows its result by itself
        expect(job).to_have_count(0)
        expect(page.locator("dl.facts").last).to_contain_text(re.compile(r"Matches\s*3"))
        expect(page.get_by_role("button", name="Map again")).to_be_visible()
        page.screenshot(path=str(tmp_path / "mapped.png"), full_page=True)
    finally:
        worker.stop()
        if thread.is_alive():
            thread.join(timeout=15)
        context.close()
    assert not errors, f"the browser reported errors: {errors}"
