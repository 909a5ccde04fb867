"""A partner manager sets a tier criterion in a real browser, evaluates, reads the figures on the tier
review page, approves, and sees the partner's tier changed with its dated history line."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Site, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(own_site: Site) -> Site:
    return own_site  # the criteria set and the tier changed here would change other tests' pages


def test_set_a_criterion_evaluate_and_approve_a_downgrade(page: Page) -> None:
    sign_in(page, "pm@example.com")
    page.get_by_role("link", name="Programs and tiers").click()
    page.get_by_text("Criteria and benefits of Premier").click()
    # Aurora Analytics holds Premier and has won nothing: one won deal is more than it has.
    page.get_by_label("Won deals (sourced or influenced) threshold for Premier").fill("1")
    page.get_by_label("Commission rate class").last.fill("P2")
    page.get_by_role("button", name="Save criteria and benefits").last.click()
    expect(page.get_by_role("status")).to_contain_text("Criteria and benefits of Premier saved (1 criteria).")
    expect(page.locator("section", has=page.get_by_role("heading", name="Technology"))).to_contain_text(
        "Won deals (sourced or influenced) ≥ 1 (last 365 days)"
    )

    page.goto("/partners")
    page.get_by_role("link", name="Tier review").click()
    expect(page.get_by_text("No proposal waits for review")).to_be_visible()
    page.get_by_role("button", name="Evaluate now").click()
    expect(page.get_by_role("status")).to_contain_text("1 new proposal(s)")
    proposal = page.locator("section", has=page.get_by_role("link", name="Aurora Analytics"))
    expect(proposal.get_by_role("heading")).to_contain_text("downgrade in Technology, Premier → Registered")
    row = proposal.get_by_role("row", name=re.compile("Won deals"))
    expect(row).to_contain_text("last 365 days")
    expect(row).to_contain_text("not met")

    proposal.get_by_role("button", name="Approve Aurora Analytics to Registered").click()
    expect(page.get_by_role("status")).to_contain_text("Aurora Analytics is now in Registered.")
    expect(page.get_by_text("No proposal waits for review")).to_be_visible()
    page.get_by_role("link", name="Approved").click()
    page.get_by_role("link", name="Aurora Analytics").click()
    expect(page.locator("dl.facts")).to_contain_text("Technology · Registered")
    history = page.get_by_role("list", name="Changes to Aurora Analytics")
    expect(history.locator("li").first).to_contain_text(
        f"{date.today().isoformat()} — tier: Technology · Premier → Technology · Registered"
    )
