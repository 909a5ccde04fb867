"""A partner manager sets a goal in a real browser, leaving the form's defaults (sourced revenue, the
whole workspace, this quarter) in place, and sees it on the goals page with its actual."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from ecoops.attribution.models import PartnerTouch
from ecoops.db import session_factory, transaction
from ecoops.goals.service import period_start
from ecoops.partners.models import Partner
from tests.browser.conftest import Site, sign_in
from tests.factories import make_opportunity

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(own_site: Site) -> Site:
    return own_site  # the goal and the won deal added here would show on other tests' dashboards


def test_set_a_goal_with_the_forms_defaults_and_see_its_actual(page: Page, site: Site) -> None:
    today = datetime.now(UTC).date()  # the site's workspace zone is UTC
    with transaction(session_factory(site.engine)) as session:
        aurora = session.scalars(select(Partner).where(Partner.name == "Aurora Analytics")).one()
        deal = make_opportunity(
            session,
            amount=Decimal(12500),
            created_on=today - timedelta(days=3),
            close_date=today,
            stage="Closed Won",
            is_closed=True,
            is_won=True,
        )
        session.add(
            PartnerTouch(
                partner_id=aurora.id,
                opportunity_crm_id=deal.crm_id,
                account_crm_id=deal.account_crm_id,
                kind="referral",
                touched_on=today - timedelta(days=3),
                status="confirmed",
                evidence_type="user",
                evidence_ref="1",
                recorded_by="",
            )
        )
    quarter = period_start("quarter", today).isoformat()
    sign_in(page, "pm@example.com")
    page.get_by_role("link", name="Goals", exact=True).click()
    expect(page).to_have_url(re.compile(r"/goals$"))
    expect(page.locator(".empty")).to_contain_text("No goals for the month or quarter holding")
    page.get_by_label("Target").fill("50000")
    page.get_by_role("button", name="Set goal").click()
    expect(page.get_by_role("status")).to_contain_text(
        f"Goal set: sourced revenue, quarter from {quarter} for the workspace."
    )
    row = page.locator("table.goals tbody tr").first
    expect(row).to_contain_text("Sourced revenue")
    expect(row).to_contain_text("the workspace")
    expect(row).to_contain_text("50,000")
    expect(row).to_contain_text("12,500")
    expect(row).to_contain_text("25 % of target")
    expect(row.get_by_role("progressbar")).to_have_attribute("value", "25.0")
