"""The pages fit the window people use: a 390 px phone (the top navigation wraps, "Sign out" stays on
screen) and a 1366 px laptop on the demo's real data (a wide table scrolls in its own box, never the page)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from ecoops.automation.deliveries import Delivery
from ecoops.db import make_engine, session_factory, transaction
from tests.browser.conftest import Site, sign_in
from tests.web.live_site import ADMIN, PARTNER_USER, PASSWORD, seed_demo, serve

PHONE: ViewportSize = {"width": 390, "height": 844}
LAPTOP: ViewportSize = {"width": 1366, "height": 768}
STAFF_PAGES = [
    "/",
    "/partners",
    "/accounts",
    "/mapping",
    "/referrals",
    "/dashboards/overview",
    "/dashboards/scorecard",
    "/imports",
    "/automation/rules",
    "/automation/deliveries",
    "/tasks",
    "/audit",
    "/tokens",
    "/attribution/touches",
]
# Salesforce's opportunity export: every column the import maps, so the preview shows them all.
OPPORTUNITIES = (
    "Id,AccountId,Name,StageName,Amount,CurrencyIsoCode,CreatedDate,CloseDate,IsClosed,IsWon,"
    "Owner.Name,Type,LeadSource,Partner_Source__c\n"
    "006A000000LAYOUT1,001A000000LAYOUT1,Northwind Traders platform renewal and expansion,Negotiation/Review,"
    "125000.00,USD,2026-01-15,2026-09-30,false,false,Alexandra Montgomery-Fitzgerald,Existing Business,"
    "Partner Referral,Aurora Analytics\n"
)


def _wider_than_its_place(page: Page) -> bool:
    """Whether some table is wider than the box it sits in (or the test would prove nothing)."""
    return bool(
        page.evaluate(
            "[...document.querySelectorAll('table')].some(t => t.scrollWidth > t.parentElement.clientWidth)"
        )
    )


def _horizontal_overflow(page: Page) -> int:
    """How far the page is wider than the window (0: no horizontal scroll bar)."""
    return int(page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth"))


@pytest.fixture
def phone(browser: Browser, site: Site, browser_errors: list[str]) -> Iterator[Page]:
    context = browser.new_context(base_url=site.url, viewport=PHONE)
    tab = context.new_page()
    tab.on("pageerror", lambda error: browser_errors.append(str(error)))
    yield tab
    context.close()
    assert not browser_errors, browser_errors


def test_on_a_phone_no_staff_page_scrolls_sideways_and_sign_out_is_on_screen(phone: Page) -> None:
    sign_in(phone, "admin@example.com")
    for path in STAFF_PAGES:
        phone.goto(path)
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
        sign_out = phone.get_by_role("button", name="Sign out")
        expect(sign_out).to_be_in_viewport(ratio=1)
    phone.get_by_role("button", name="Sign out").click()
    expect(phone.get_by_role("button", name="Sign in")).to_be_visible()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo workspace (`ecoops demo`, as a new user starts) served by `ecoops serve`."""
    folder = Path(tmp_path_factory.mktemp("demo"))
    site = seed_demo(f"sqlite:///{folder / 'ecoops.db'}", folder / "var", accounts=300)
    _a_bounced_mail(site.database_url)
    with serve(site, folder / "server.log") as url:
        yield url


def _a_bounced_mail(database_url: str) -> None:
    """A digest the mail server refused: a long address and an error with a URL, neither of which can wrap."""
    engine = make_engine(database_url)
    with transaction(session_factory(engine)) as session:
        session.add(
            Delivery(
                uid=uuid.uuid4().hex,
                source="digest",
                channel="email",
                target="emea-partner-program-notifications+digest@alliances.mapleware-systems.example",
                recipient="partner:1",
                message={"subject": "Your weekly partner digest"},
                status="dead",
                attempts=8,
                last_error="550 5.1.1 see https://postmaster.mapleware-systems.example/bounces/5.1.1/mailbox-unavailable",
            )
        )
    engine.dispose()


@pytest.fixture
def laptop(browser: Browser, demo: str, browser_errors: list[str]) -> Iterator[Page]:
    context = browser.new_context(base_url=demo, viewport=LAPTOP)
    tab = context.new_page()
    tab.on("pageerror", lambda error: browser_errors.append(str(error)))
    tab.goto("/login")
    tab.get_by_label("E-mail").fill(ADMIN)
    tab.get_by_label("Password").fill(PASSWORD)
    tab.get_by_role("button", name="Sign in").click()
    expect(tab.get_by_role("button", name="Sign out")).to_be_visible()
    yield tab
    context.close()
    assert not browser_errors, browser_errors


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/dashboards/forecast", "Forecast from overlaps"),
        ("/dashboards/scorecard", "Partner scorecard"),
        ("/automation/deliveries", "Delivery log"),
    ],
)
def test_on_a_laptop_wide_figures_and_logs_scroll_in_their_own_box(
    laptop: Page, path: str, heading: str
) -> None:
    laptop.goto(path)
    expect(laptop.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    assert _wider_than_its_place(laptop)
    assert _horizontal_overflow(laptop) == 0


def test_on_a_laptop_the_import_preview_of_a_wide_export_scrolls_in_its_own_box(
    laptop: Page, tmp_path: Path
) -> None:
    export = tmp_path / "opportunities.csv"
    export.write_text(OPPORTUNITIES.replace("\n", "\r\n"))
    laptop.goto("/imports")
    laptop.get_by_label("File").set_input_files(export)
    laptop.get_by_role("button", name="Upload and preview").click()
    expect(laptop.get_by_role("heading", name="Preview")).to_be_visible()
    assert _wider_than_its_place(laptop)
    assert _horizontal_overflow(laptop) == 0


def _matrix_cell_to_its_accounts(tab: Page) -> None:
    """From the first mapped partner's matrix, open its fullest cell: the page lists as many of our
    accounts as the cell counts, each name a link to the account's page with its owner beside it."""
    tab.goto("/mapping")
    tab.locator("tbody tr").filter(has_text=".csv").first.get_by_role("link").click()
    cell = tab.locator("table.matrix td.heat-5 a").first
    expect(cell).to_be_visible()  # the partner's page has loaded before its width is measured
    assert _horizontal_overflow(tab) == 0
    count = int(cell.locator(".count").inner_text().replace(",", ""))
    expect(cell).to_contain_text("of our")
    cell.click()
    expect(tab).to_have_url(re.compile(r"/overlaps\?ours="))
    expect(tab.locator(".pager").first).to_contain_text(f"{count} result")
    assert _horizontal_overflow(tab) == 0
    name = tab.locator("td.account a").first
    expect(name).to_have_attribute("href", re.compile(r"^/accounts/\d+$"))
    expect(tab.locator("tbody.overlap-account").first.locator("td").nth(1)).not_to_be_empty()  # the owner
    account = name.inner_text()
    name.click()
    expect(tab.get_by_role("heading", level=1)).to_contain_text(account)


def test_a_matrix_cell_opens_its_accounts_whose_names_open_the_account_at_both_widths(
    laptop: Page, browser: Browser, demo: str, browser_errors: list[str]
) -> None:
    _matrix_cell_to_its_accounts(laptop)
    context = browser.new_context(base_url=demo, viewport=PHONE, storage_state=laptop.context.storage_state())
    tab = context.new_page()
    tab.on("pageerror", lambda error: browser_errors.append(str(error)))
    try:
        _matrix_cell_to_its_accounts(tab)
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["390px", "1366px"])
def test_the_partners_overlap_matrix_fits_the_window(
    laptop: Page, browser: Browser, demo: str, browser_errors: list[str], viewport: ViewportSize
) -> None:
    laptop.goto("/mapping/sharing-defaults")  # the admin shares counts of every population
    for select in laptop.locator("select").all():
        select.select_option("counts")
    laptop.get_by_role("button", name="Save").click()
    expect(laptop.locator(".flash.success")).to_contain_text("Default sharing saved")
    context = browser.new_context(base_url=demo, viewport=viewport)
    tab = context.new_page()
    tab.on("pageerror", lambda error: browser_errors.append(str(error)))
    try:
        tab.goto("/login")
        tab.get_by_label("E-mail").fill(PARTNER_USER)
        tab.get_by_label("Password").fill(PASSWORD)
        tab.get_by_role("button", name="Sign in").click()
        tab.goto("/portal/overlaps")
        expect(tab.get_by_role("heading", name="Accounts we share")).to_be_visible()
        expect(tab.locator("table.matrix")).to_be_visible()
        assert _horizontal_overflow(tab) == 0
    finally:
        context.close()
