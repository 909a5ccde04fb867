"""The referral flow in a real browser: a partner registers a deal in its portal, a second partner
registers the same company through its no-login link, the manager sees the conflict and approves the
first, the seller finds the lead handed to them, and the partner sees the new status."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()


def fill_referral(page: Page, company: str, domain: str) -> None:
    page.get_by_label("Type").select_option("deal_registration")
    page.get_by_label("Company").fill(company)
    page.get_by_label("Web domain").fill(domain)
    page.get_by_label("Country").fill("Germany")
    page.get_by_label("Estimated value").fill("25000")
    page.get_by_role("button", name="Submit", exact=True).click()


def test_partner_submits_conflict_shows_manager_approves_seller_and_partner_see_it(page: Page) -> None:
    sign_in(page, "pat@aurora.example")
    page.get_by_role("link", name="Submit a referral or deal registration").click()
    fill_referral(page, "Zenith Robotics GmbH", "zenith-robotics.com")
    expect(page.locator(".flash.success")).to_contain_text("Submitted")
    expect(page.get_by_role("heading", level=1)).to_contain_text("submitted")
    sign_out(page)

    sign_in(page, "pm@example.com")
    page.goto("/referral-links")
    page.get_by_label("Partner").select_option(label="Borealis Data")
    page.get_by_role("button", name="Create link").click()
    link = page.locator("code.link-url").first.inner_text()
    sign_out(page)

    page.goto(link)  # no sign-in: the signed link is enough
    expect(page.locator("main")).to_contain_text("You are submitting as Borealis Data")
    fill_referral(page, "Zenith Robotics", "www.zenith-robotics.com")
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")

    sign_in(page, "pm@example.com")
    page.get_by_role("link", name="Referrals", exact=True).click()
    # Other browser tests share this site and may have stored referrals of their own.
    expect(page.locator("tbody tr", has_text="Zenith Robotics")).to_have_count(2)
    page.get_by_role("link", name="Zenith Robotics", exact=True).click()
    expect(page.locator(".conflicts")).to_contain_text("Aurora Analytics registered it first")
    page.goto("/referrals")
    page.get_by_role("link", name="Zenith Robotics GmbH").click()
    page.get_by_role("button", name="Approve and hand to sales").click()
    expect(page.locator(".flash.success")).to_contain_text("handed to sales")
    expect(page.locator("main")).to_contain_text("Sales")
    sign_out(page)

    sign_in(page, "sales@example.com")
    page.goto("/referrals")
    page.get_by_label("handed to me").check()
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"mine=true"))
    expect(page.locator("tbody tr", has_text="Zenith Robotics")).to_have_count(1)
    expect(page.locator("tbody tr", has_text="Zenith Robotics")).to_contain_text("Zenith Robotics GmbH")
    sign_out(page)

    sign_in(page, "pat@aurora.example")
    page.goto("/portal/referrals")
    row = page.locator("tbody tr", has_text="Zenith Robotics GmbH")
    expect(row).to_contain_text("approved")
    expect(page.locator("tbody")).not_to_contain_text("Borealis")
    row.get_by_role("link").first.click()
    expect(page.locator(".timeline")).to_contain_text("submitted → approved")
