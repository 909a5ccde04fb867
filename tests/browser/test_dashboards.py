"""Dashboards in a real browser: the charts draw from the locally served Chart.js without a console or CSP
error, and a figure opens down to its records and to one opportunity's explanation."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from playwright.sync_api import Page, expect
from sqlalchemy import select

from ecoops.attribution.models import PartnerTouch
from ecoops.config import Settings
from ecoops.crm.models import Opportunity
from ecoops.db import session_factory, transaction
from ecoops.partners.models import Partner
from tests.browser.conftest import Site, sign_in


def _a_sourced_win(site: Site) -> str:
    """Aurora's referral sourced a deal won last week (once per test session)."""
    today = Settings().today()
    with transaction(session_factory(site.engine)) as session:
        found = session.scalar(select(Opportunity.crm_id).where(Opportunity.crm_id == "006BROWSERDASH"))
        if found:
            return found
        aurora = session.scalars(select(Partner).where(Partner.name == "Aurora Analytics")).one()
        session.add(
            Opportunity(
                crm_id="006BROWSERDASH",
                account_crm_id="001BROWSERDASH",
                name="Dashboard deal",
                stage="Closed Won",
                amount=Decimal("12345"),
                created_on=today - timedelta(days=40),
                close_date=today - timedelta(days=7),
                is_closed=True,
                is_won=True,
            )
        )
        session.add(
            PartnerTouch(
                partner_id=aurora.id,
                opportunity_crm_id="006BROWSERDASH",
                kind="referral",
                touched_on=today - timedelta(days=40),
                evidence_type="referral",
                evidence_ref="B-1",
                status="confirmed",
            )
        )
    return "006BROWSERDASH"


def test_overview_charts_draw_and_a_figure_drills_down_to_an_opportunity(page: Page, site: Site) -> None:
    crm_id = _a_sourced_win(site)
    sign_in(page, "viewer@example.com")
    page.get_by_role("link", name="Dashboards").click()
    expect(page.get_by_role("heading", name="Program overview")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("data-charts-drawn", "6")
    assert page.locator("canvas[data-chart]").count() == 6
    assert page.evaluate("document.querySelector('canvas[data-chart=pipeline]').chart !== undefined")

    revenue = page.locator("#figure-revenue")
    expect(revenue).to_contain_text("12,345.00")
    revenue.get_by_role("row", name="sourced").get_by_role("link", name="records").click()
    expect(
        page.get_by_role("heading", name="Sourced and influenced revenue (period): sourced")
    ).to_be_visible()
    page.get_by_role("link", name=crm_id).click()
    expect(page.get_by_role("heading", name=f"Opportunity {crm_id}")).to_contain_text("sourced")
    expect(page.locator("#touches")).to_contain_text("Aurora Analytics")
    expect(page.locator("#shares")).to_contain_text("100.0 %")
