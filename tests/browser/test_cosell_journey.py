"""Co-sell in a real browser: a seller opens the overlap matrix, a cell, "Ask for help" and sends the
prefilled request; the partner's user accepts it in the portal; the seller sees it accepted with its
co-sell touch, and the partner's influenced pipeline on the overview dashboard moves."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from ecoops.accounts import service as accounts
from ecoops.actors import SYSTEM
from ecoops.config import Settings
from ecoops.crm.models import Account, Opportunity
from ecoops.db import session_factory, transaction
from ecoops.mapping import runs, uploads
from ecoops.partners import service as partners
from tests.browser.conftest import Site, sign_in
from tests.browser.test_referral_journey import sign_out
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(own_site: Site) -> Site:
    return own_site  # the partner, account and request added here would change other tests' counts


PARTNER_LIST = (
    "Account ID,Account Name,Website,Billing Country,Population,Partner Rep\n"
    "G1,Gale Target GmbH,gale-target.example,DE,Customers,Gina\n"
)


def _gale(site: Site, folder: Path) -> int:
    """A partner whose list has our account with an open 4,321 deal; its portal user is Gail."""
    today = Settings().today()
    with transaction(session_factory(site.engine)) as session:
        partner = partners.create_partner(
            session,
            SYSTEM,
            name="Gale Cosell",
            partner_type="technology",
            stage="active",
            stage_since=today - timedelta(days=90),
            domains=["gale.example"],
        )
        accounts.create_partner_user(
            session, SYSTEM, partner_id=partner.id, email="gail@gale.example", name="Gail", password=PASSWORD
        )
        session.add(
            Account(crm_id="001BROWSERGALE", name="Gale Target", domain="gale-target.example", owner="Ana")
        )
        session.add(
            Opportunity(
                crm_id="006BROWSERGALE",
                account_crm_id="001BROWSERGALE",
                name="Gale deal",
                stage="Discovery",
                amount=Decimal("4321"),
                created_on=today - timedelta(days=10),
            )
        )
        session.flush()
        path = folder / "gale.csv"
        path.write_text(PARTNER_LIST, encoding="utf-8")
        uploads.upload_partner_list(session, SYSTEM, partner.id, path, "gale.csv")
        runs.run_mapping(session, SYSTEM, partner.id)
        return partner.id


def influenced_pipeline(page: Page, partner_id: int) -> str:
    """The influenced row of the overview's open pipeline for the partner ("" without one)."""
    page.goto(f"/dashboards/overview?partner={partner_id}")
    row = page.locator("#figure-pipeline tbody tr", has_text="influenced")
    return row.inner_text() if row.count() else ""


def test_seller_asks_from_a_cell_partner_accepts_and_the_figure_moves(
    page: Page, site: Site, tmp_path: Path
) -> None:
    partner_id = _gale(site, tmp_path)
    sign_in(page, "sales@example.com")
    assert "4,321.00" not in influenced_pipeline(page, partner_id)  # a direct deal so far

    page.goto(f"/mapping/partners/{partner_id}")
    page.locator('a[href*="overlaps?ours=open_opportunities&theirs=Customers"]').click()  # click 1: the cell
    page.get_by_role("link", name="Ask for help").click()  # click 2
    expect(page.get_by_role("heading", level=1)).to_have_text("Ask Gale Cosell for help with Gale Target")
    expect(page.get_by_label("Message")).to_have_value(
        "You list Gale Target GmbH among your Customers.\nYour account owner: Gina.\n"
        "Could you introduce us, or work this account with us? Accept and we will get in touch."
    )  # theirs only: our owner (Ana) is not shared with them
    page.get_by_role("button", name="Send to Gale Cosell").click()  # the prefilled form, as it is
    expect(page.locator(".flash.success")).to_contain_text("Sent to the partner's portal and contacts")
    expect(page.get_by_role("heading", level=1)).to_contain_text("sent")
    request_url = page.url
    sign_out(page)

    sign_in(page, "gail@gale.example")
    page.goto("/portal/referrals")
    page.locator("tbody tr", has_text="Gale Target GmbH").get_by_role("link").first.click()
    expect(page.locator("main")).to_contain_text("Your account owner: Gina.")
    page.get_by_role("button", name="Accept: we will take it on").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("accepted")
    sign_out(page)

    sign_in(page, "sales@example.com")
    page.goto(request_url)
    expect(page.get_by_role("heading", level=1)).to_contain_text("accepted")
    expect(page.locator("main")).to_contain_text("co-sell")
    expect(page.locator("main")).to_contain_text("Gale deal")
    assert "4,321.00" in influenced_pipeline(page, partner_id)
