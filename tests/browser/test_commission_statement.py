"""Finance approves the month's commissions in a real browser, and the partner reads the statement in
its portal: the accrual date and every other field left as the page fills them in."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.partners.models import Partner, Program
from tests.browser.conftest import Site, sign_in
from tests.commissions.world import plan, won_deal
from tests.pdf_text import pdf_lines

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(own_site: Site) -> Site:
    return own_site  # the plan, deal and ledger lines added here are this module's alone


def test_finance_approves_and_the_partner_reads_its_statement(
    page: Page, site: Site, browser: Browser
) -> None:
    today = date.today()
    with Session(site.engine) as session:
        aurora = session.scalars(select(Partner).where(Partner.name == "Aurora Analytics")).one()
        program = session.scalars(select(Program).where(Program.name == "Technology")).one()
        plan(
            session,
            program,
            name="Technology resale",
            rates=[("0", "15")],
            valid_from=today - timedelta(days=400),
        )
        won_deal(session, aurora, "2000.10", today, crm_id="006BROWSERWON")
        session.commit()
    sign_in(page, "admin@example.com")
    page.get_by_role("link", name="Commissions").click()
    expect(page).to_have_url(re.compile(r"/commissions$"))
    expect(page.locator(".empty")).to_contain_text("No pending lines")
    page.get_by_role("button", name="Compute accruals").click()
    expect(page.get_by_role("status")).to_contain_text("1 new line(s), 0 reversal(s)")
    lines = page.locator("#lines")
    expect(lines).to_contain_text("300.02 USD")  # 2,000.10 x 15 % = 300.015 → 300.02
    expect(lines).to_contain_text("Technology resale: deal 006BROWSERWON")
    page.get_by_label("tick all shown").check()
    page.get_by_role("button", name="Approve ticked").click()
    expect(page.get_by_role("status")).to_contain_text("1 line(s) approved.")
    page.get_by_role("link", name="approved", exact=True).click()
    page.get_by_role("link", name="Aurora Analytics").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Aurora Analytics")
    expect(page.get_by_text("Earned this month: 300.02 USD")).to_be_visible()

    partner_view = browser.new_context(base_url=site.url).new_page()
    sign_in(partner_view, "pat@aurora.example")
    partner_view.get_by_role("link", name="Commissions").click()
    partner_view.get_by_role("link", name=today.strftime("%Y-%m")).click()
    expect(partner_view.get_by_text("Earned this month: 300.02 USD")).to_be_visible()
    row = partner_view.locator("#statement-lines tbody tr").first
    expect(row).to_contain_text("approved")
    expect(row).to_contain_text("source credit 2,000.10 (linear attribution); x 15%")
    with partner_view.expect_download() as download:
        partner_view.get_by_role("link", name="Download as CSV").click()
    assert download.value.suggested_filename == f"commission-statement-{today.strftime('%Y-%m')}.csv"
    with partner_view.expect_download() as download:
        partner_view.get_by_role("link", name="Download as PDF").click()
    assert download.value.suggested_filename == f"commission-statement-{today.strftime('%Y-%m')}.pdf"
    text = "\n".join(pdf_lines(Path(download.value.path()).read_bytes()))
    assert "006BROWSERWON" in text and "Earned this month: 300.02 USD" in text
    partner_view.context.close()
