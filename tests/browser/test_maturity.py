"""A partner manager opens the maturity page, seeds the roadmap of the stage found from the template, and
sees a template task on the board with its live figure."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Site, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(own_site: Site) -> Site:
    return own_site  # the roadmap tasks added here would show on other tests' pages


def test_open_maturity_seed_the_roadmap_and_see_a_task_on_the_board(page: Page, site: Site) -> None:
    sign_in(page, "pm@example.com")
    page.get_by_role("link", name="Maturity", exact=True).click()
    expect(page).to_have_url(re.compile(r"/maturity$"))
    expect(page.locator("h1")).to_contain_text("EcoOps maturity: Launch")  # no integration validated yet
    expect(page.locator('tr[data-criterion="validated_integrations"]')).to_contain_text("≥ 2")
    page.get_by_role("button", name="Seed Launch roadmap from template").click()
    expect(page).to_have_url(re.compile(r"/roadmap\?stage=launch$"))
    expect(page.get_by_role("status")).to_contain_text("6 template task(s) added to the Launch roadmap.")
    cell = page.locator('td[data-cell="automation_tooling/partner_ops"]')
    expect(cell).to_contain_text("Partner nurture across the life cycle")
    expect(cell).to_contain_text("Partners active or producing (as of today)")
    expect(cell.locator(".kpi-value")).to_have_text("1")  # Aurora Analytics is the one active partner
    page.get_by_role("link", name="Timeline").click()
    expect(page.get_by_role("heading", name=re.compile(r"\(1\)$")).first).to_be_visible()
