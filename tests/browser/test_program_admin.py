"""A partner manager runs the program in a real browser: a new program and tier, then a partner's
tier changed from its page, leaving every other field as the form shows it, and the dated history line."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Site, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(own_site: Site) -> Site:
    return own_site  # the program added and the tier changed here would change other tests' listings


def test_create_a_program_and_tier_then_change_a_partners_tier(page: Page) -> None:
    sign_in(page, "pm@example.com")
    page.get_by_role("link", name="Programs and tiers").click()
    expect(page).to_have_url(re.compile(r"/programs$"))
    page.get_by_label("Name", exact=True).last.fill("Marketplace")
    page.get_by_label("Tiers").fill("Listed")
    page.get_by_role("button", name="Create program").click()
    expect(page.get_by_role("status")).to_contain_text("Program Marketplace created with 1 tier(s).")
    marketplace = page.locator("section", has=page.get_by_role("heading", name="Marketplace"))
    marketplace.get_by_label("New tier in Marketplace").fill("Featured")
    marketplace.get_by_role("button", name="Add tier").click()
    expect(page.get_by_role("status")).to_contain_text("Tier Featured added to Marketplace.")

    page.goto("/partners?q=fjord")
    page.get_by_role("link", name="Fjord Referrals").click()
    for tier, line in [
        ("Listed", "program: none → Marketplace · Listed"),
        ("Featured", "tier: Marketplace · Listed → Marketplace · Featured"),
    ]:
        page.get_by_role("link", name="Edit partner").click()
        page.get_by_label("Tier in Marketplace").select_option(label=tier)
        page.get_by_role("button", name="Save changes").click()
        expect(page.get_by_role("status")).to_contain_text("1 change(s) recorded")
        history = page.get_by_role("list", name="Changes to Fjord Referrals")
        expect(history.locator("li").first).to_contain_text(f"{date.today().isoformat()} — {line}")
        expect(history.locator("li").first).to_contain_text("recorded by pm@example.com")
    expect(page.locator("dl.facts")).to_contain_text("Marketplace · Featured")
