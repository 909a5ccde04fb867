"""The pages fit the window people use: a 390 px phone (the top navigation wraps, "Sign out" stays on
screen) and a 1366 px laptop on the demo's real data (a wide table scrolls in its own box, never the page)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from ecoops.automation.deliveries import Delivery
from ecoops.db import make_engine, session_factory, transaction
from tests.browser.conftest import Site, sign_in
from tests.web.live_site import ADMIN, PASSWORD, seed_demo, serve

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
