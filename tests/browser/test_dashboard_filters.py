"""Dashboard filters clicked as a person does: Apply with everything left as it is, a new as-of date typed
into the date input, and a figure's records read a page at a time."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from playwright.sync_api import Page, expect
from sqlalchemy import select

from ecoops.config import Settings
from ecoops.crm.models import Opportunity
from ecoops.db import session_factory, transaction
from ecoops.metrics.service import DASHBOARDS
from tests.browser.conftest import PAGE_SIZE, Site, sign_in

OPEN_DEALS = PAGE_SIZE + 2  # the records of "opportunities by class" fill more than one page


def _open_deals(site: Site) -> None:
    """Open opportunities created three weeks ago (once per test session)."""
    today = Settings().today()
    with transaction(session_factory(site.engine)) as session:
        if session.scalar(select(Opportunity.id).where(Opportunity.crm_id == "006BROWSERFILTER00")):
            return
        session.add_all(
            Opportunity(
                crm_id=f"006BROWSERFILTER{n:02d}",
                account_crm_id=f"001BROWSER{n:05d}",
                name=f"Filter deal {n}",
                stage="Prospecting",
                amount=Decimal(1000 + n),
                created_on=today - timedelta(days=21),
            )
            for n in range(OPEN_DEALS)
        )


def test_apply_with_the_filters_left_as_they_are_shows_every_dashboard(page: Page) -> None:
    sign_in(page, "viewer@example.com")
    page.get_by_role("link", name="Dashboards").click()
    for board in DASHBOARDS.values():
        page.locator("nav.tabs").get_by_role("link", name=board.title, exact=True).click()
        expect(page.get_by_role("heading", name=board.title, level=1)).to_be_visible()
        page.get_by_role("button", name="Apply").click()
        page.wait_for_load_state()
        assert "partner=&" in page.url  # the "all" options went with the form, as browsers send them
        expect(page.get_by_role("heading", name=board.title, level=1)).to_be_visible()
        expect(page.locator("main")).to_contain_text("As of")


def test_a_new_as_of_date_in_the_date_input_moves_the_figures(page: Page, site: Site) -> None:
    _open_deals(site)
    today = Settings().today()
    sign_in(page, "viewer@example.com")
    page.goto("/dashboards/overview")
    as_of = page.get_by_label("As of")
    expect(as_of).to_have_value(today.isoformat())  # the date input starts on today
    classes_today = page.locator("#figure-classification").inner_text()

    earlier = today - timedelta(days=30)  # before the open deals were created
    as_of.fill(earlier.isoformat())
    page.get_by_role("button", name="Apply").click()
    page.wait_for_load_state()
    help_line = page.locator("p.help").first
    expect(help_line).to_contain_text(f"As of {earlier}; period {earlier - timedelta(days=364)} to {earlier}")
    expect(page.get_by_label("As of")).to_have_value(earlier.isoformat())
    assert page.locator("#figure-classification").inner_text() != classes_today


def test_a_figures_records_are_paged_and_the_next_page_link_works(page: Page, site: Site) -> None:
    _open_deals(site)
    sign_in(page, "viewer@example.com")
    page.goto("/dashboards/overview")
    page.locator("#figure-classification .heading").get_by_role("link", name="records").click()
    expect(page.get_by_role("heading", name="Opportunities by class (as of)")).to_be_visible()
    pager = page.get_by_role("navigation", name="pages")
    expect(pager).to_contain_text("page 1 of")
    first = page.locator("#records tbody tr").all_inner_texts()
    assert len(first) == PAGE_SIZE

    pager.get_by_role("link", name="Next →").click()
    expect(pager).to_contain_text("page 2 of")
    second = page.locator("#records tbody tr").all_inner_texts()
    assert 0 < len(second) <= PAGE_SIZE and not set(first) & set(second)
    pager.get_by_role("link", name="← Previous").click()
    expect(pager).to_contain_text("page 1 of")
