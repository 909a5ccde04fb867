"""A partner user signs in through the real login form and lands on its portal home with its own figures."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.partners.models import Partner
from tests.browser.conftest import Site, sign_in
from tests.commissions.world import won_deal
from tests.portal.test_portal_figures import open_deal

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(own_site: Site) -> Site:
    return own_site  # the deals added here are this module's alone


def test_a_partner_user_sees_its_own_figures_on_its_home(page: Page, site: Site) -> None:
    """Aurora: a won deal of 7,500.00 (credited in full, the only partner on it) and an open one of
    3,000.00 it sourced. Borealis's open 9,000.00 is not Aurora's and must not show."""
    today = date.today()
    with Session(site.engine) as session:
        aurora = session.scalars(select(Partner).where(Partner.name == "Aurora Analytics")).one()
        borealis = session.scalars(select(Partner).where(Partner.name == "Borealis Data")).one()
        won_deal(session, aurora, "7500", today - timedelta(days=5), crm_id="006AURORAWON")
        open_deal(session, aurora, "3000", today - timedelta(days=3))
        open_deal(session, borealis, "9000", today - timedelta(days=3))
        session.commit()
    sign_in(page, "pat@aurora.example")
    expect(page).to_have_url(re.compile(r"/portal$"))
    figures = page.locator("#your-figures")
    expect(figures).to_contain_text("Open pipeline you sourced")
    expect(page.locator("#figure-pipeline-sourced")).to_have_text("3,000.00 (1 opportunities)")
    expect(page.locator("#figure-pipeline-influenced")).to_have_text("0.00 (0 opportunities)")
    expect(page.locator("#figure-credited")).to_have_text("7,500.00 on 1 won deals (linear attribution)")
    expect(page.locator("#figure-conversion")).to_have_text("no referrals exchanged yet")
    expect(page.locator("#tier-progress")).to_contain_text("Technology: Premier")
    expect(page.locator("#tier-progress")).to_contain_text("You hold the program's top tier.")
    expect(page.locator("#open-tasks")).to_contain_text("Nothing waits on you.")
    expect(page.locator("main")).not_to_contain_text("9,000")
    figures.get_by_role("link", name="Your commission statements").click()
    expect(page).to_have_url(re.compile(r"/portal/commissions$"))
