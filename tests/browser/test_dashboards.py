"""Dashboards in a real browser: the charts draw from the locally served Chart.js without a console or CSP
error, and a figure opens down to its records and to one opportunity's explanation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from playwright.sync_api import Page, expect
from sqlalchemy import select

from ecoops.attribution.models import PartnerTouch
from ecoops.config import Settings
from ecoops.crm.models import Opportunity
from ecoops.db import session_factory, transaction
from ecoops.partners.models import Partner
from ecoops.referrals.models import Referral
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


def _referrals_of_the_month(site: Site) -> None:
    """Aurora referred the dashboard deal (approved) and we referred a customer to it (accepted)."""
    with transaction(session_factory(site.engine)) as session:
        if session.scalar(select(Referral.id).where(Referral.company == "Browser Dash Co")):
            return
        aurora = session.scalars(select(Partner).where(Partner.name == "Aurora Analytics")).one()
        sent = datetime.now(UTC) - timedelta(days=30)
        for direction, status, value, opportunity in (
            ("inbound", "approved", "10000", "006BROWSERDASH"),
            ("outbound", "accepted", "5000", ""),
        ):
            session.add(
                Referral(
                    direction=direction,
                    kind="eql",
                    partner_id=aurora.id,
                    company="Browser Dash Co",
                    status=status,
                    submitted_via="internal",
                    submitted_at=sent,
                    estimated_value=Decimal(value),
                    opportunity_crm_id=opportunity,
                )
            )


def test_the_eql_funnel_shows_the_referrals_and_what_they_became(page: Page, site: Site) -> None:
    _a_sourced_win(site)
    _referrals_of_the_month(site)
    sign_in(page, "viewer@example.com")
    page.goto(f"{site.url}/dashboards/eql-funnel")
    expect(page.get_by_role("heading", name="EQL funnel")).to_be_visible()
    funnel = page.locator("#figure-eql_funnel")
    expect(funnel).not_to_contain_text("no data")
    expect(funnel).to_contain_text("15,000.00")  # EQL pipeline: both directions' declared value
    expect(funnel).to_contain_text("12,345.00")  # the SQL the inbound one became, and it was won
    expect(funnel).to_contain_text("0.50")  # EQL → SQL conversion: one of the two became an opportunity
