"""The recruiting list and the ROI dashboard open in a real browser with their default filters, and
Apply keeps them (no CSP error, the chart drawn from its JSON block)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Site, sign_in

pytestmark = pytest.mark.browser


def test_the_recruiting_list_ranks_candidates_and_apply_keeps_its_filters(page: Page, site: Site) -> None:
    sign_in(page, "pm@example.com")
    page.goto(f"{site.url}/fit")
    expect(page.get_by_role("heading", name="Recruiting list: partner fit")).to_be_visible()
    ranking = page.locator("#ranking")
    expect(ranking).to_contain_text("Delta Consulting")
    expect(ranking).to_contain_text("Fjord Referrals")
    expect(ranking).not_to_contain_text("Aurora Analytics")  # a current partner, not a candidate
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"/fit\?who=candidates&type=$"))
    expect(page.locator("#ranking")).to_contain_text("Delta Consulting")
    page.locator("#ranking summary").first.click()
    expect(page.locator("#ranking table").first).to_contain_text("Partner type")
    page.get_by_role("link", name="Delta Consulting").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Fit of Delta Consulting: "))).to_be_visible()


def test_the_roi_dashboard_opens_and_apply_keeps_its_period(page: Page, site: Site) -> None:
    sign_in(page, "pm@example.com")
    page.goto(f"{site.url}/roi")
    expect(page.get_by_role("heading", name="Program ROI and efficiency")).to_be_visible()
    start = page.locator("input[name=from]").input_value()
    end = page.locator("input[name=to]").input_value()
    expect(page.locator("[data-figure=roi_sourced]")).to_have_text("not defined")  # no cost entered
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(rf"/roi\?from={start}&to={end}$"))
    expect(page.locator("#roi-figures")).to_contain_text("Attach rate")
    expect(page.locator("html")).to_have_attribute("data-charts-drawn", "1")
    expect(page.locator("#roi-figures a.drill").first).to_have_attribute("href", re.compile("cohort=sourced"))
