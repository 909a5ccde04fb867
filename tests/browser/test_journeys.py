"""What people do in a real browser: find and move a partner, page through accounts, make an API
token and use it, and a partner user's way into its portal (and not further)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PAGE_SIZE, Site, sign_in

pytestmark = pytest.mark.browser


def test_search_filter_open_and_move_a_partner(page: Page, tmp_path: Path) -> None:
    sign_in(page, "pm@example.com")
    # A partner manager lands on the partners they manage (all six here), then opens the directory.
    expect(page).to_have_url(re.compile(r"/home/partners$"))
    expect(page.locator("#my-partners a")).to_have_count(6)
    page.get_by_role("link", name="All partners").click()
    expect(page).to_have_url(re.compile(r"/partners$"))
    rows = page.locator("#partner-rows tbody tr")
    expect(rows).to_have_count(6)
    page.evaluate("window.sameDocument = true")  # gone if the browser loads a new page

    page.get_by_label("Search").fill("borea")
    expect(page).to_have_url(re.compile(r"[?&]q=borea"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Borealis Data")

    page.get_by_label("Search").fill("")
    page.get_by_label("Stage").select_option("prospect")
    expect(page).to_have_url(re.compile(r"stage=prospect"))
    expect(rows).to_have_count(2)
    expect(page.locator("#partner-rows")).not_to_contain_text("Borealis")
    page.get_by_label("Program").select_option(label="Technology")
    expect(page.locator("#partner-rows")).to_contain_text("No partner matches these filters")
    assert page.evaluate("window.sameDocument") is True, "the filters reloaded the page instead of its rows"

    page.goto("/partners?stage=onboarding")
    page.get_by_role("link", name="Cirrus Cloud").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Cirrus Cloud")
    expect(page.get_by_label("Move to")).to_have_value("active")  # the usual next stage is offered first
    page.get_by_label("Note").fill("first deal closed")
    page.get_by_role("button", name="Record move").click()
    expect(page.locator(".flash.success")).to_contain_text("Cirrus Cloud is now active")
    latest = page.locator(".timeline li").first
    expect(latest).to_contain_text("onboarding → active")
    expect(latest).to_contain_text("first deal closed")
    expect(latest).to_contain_text("recorded by pm@example.com")
    page.screenshot(path=str(tmp_path / "partner-page.png"), full_page=True)


def test_accounts_list_pages_through(page: Page) -> None:
    sign_in(page, "viewer@example.com")
    page.get_by_role("link", name="Accounts").click()
    rows = page.locator("#account-rows tbody tr")
    expect(rows).to_have_count(PAGE_SIZE)
    expect(page.locator(".pager")).to_contain_text("25 results · page 1 of 3")
    expect(rows.first).to_contain_text("Account 00")
    page.get_by_role("link", name="Next →").click()
    expect(page).to_have_url(re.compile(r"page=2"))
    expect(page.locator(".pager")).to_contain_text("page 2 of 3")
    expect(rows.first).to_contain_text("Account 10")
    page.get_by_role("link", name="Next →").click()
    expect(rows).to_have_count(5)
    expect(page.get_by_role("link", name="Next →")).to_have_count(0)


def test_an_api_token_is_shown_once_and_works(page: Page, site: Site) -> None:
    sign_in(page, "sales@example.com")
    page.get_by_role("link", name="API tokens").click()
    expect(page.locator(".empty")).to_contain_text("no API tokens yet")
    page.get_by_label("Name").fill("browser test")
    page.get_by_role("button", name="Create token").click()
    secret = page.locator("#new-token-secret").inner_text().strip()
    assert secret.startswith("eco_")
    expect(page.locator(".secret")).to_contain_text(f"Authorization: Bearer {secret}")

    me = httpx.get(f"{site.url}/api/v1/me", headers={"authorization": f"Bearer {secret}"})
    assert me.status_code == 200 and me.json()["email"] == "sales@example.com"

    page.goto("/tokens")
    expect(page.locator("tbody")).to_contain_text("browser test")
    assert secret not in page.content()
    expect(page.locator("tbody")).to_contain_text(secret[:12])  # the prefix, to tell tokens apart


def test_a_partner_user_lands_in_its_portal_and_stays_there(page: Page, browser_errors: list[str]) -> None:
    sign_in(page, "pat@aurora.example")
    expect(page).to_have_url(re.compile(r"/portal$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Aurora Analytics")
    expect(page.locator("main")).to_contain_text("Technology · Premier")
    expect(page.locator("main")).to_contain_text("pm@example.com")
    expect(page.get_by_role("link", name="Partners")).to_have_count(0)
    response = page.goto("/partners")
    assert response is not None and response.status == 403
    assert browser_errors == [
        "Failed to load resource: the server responded with a status of 403 (Forbidden)"
    ]
    browser_errors.clear()
    expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")


def test_the_api_reference_renders_offline_under_the_csp(page: Page) -> None:
    page.goto("/api/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("ecoops")
    expect(page.get_by_role("button", name=re.compile("Authorize"))).to_be_visible()
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
