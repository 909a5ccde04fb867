"""Influence in a real browser: a partner's user logs a demo on a deal from the portal, the deal's
owner confirms it on the account page, the partner's influenced pipeline moves, and the partner sees it
confirmed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from ecoops.accounts import service as accounts
from ecoops.actors import SYSTEM
from ecoops.config import Settings
from ecoops.crm.models import Account, Opportunity
from ecoops.db import session_factory, transaction
from ecoops.partners import service as partners
from ecoops.referrals.models import Referral
from tests.browser.conftest import Site, sign_in
from tests.browser.test_cosell_journey import influenced_pipeline
from tests.browser.test_referral_journey import sign_out
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(own_site: Site) -> Site:
    return own_site  # the partner, account and touch added here would change other tests' counts


def _halo(site: Site) -> tuple[int, int]:
    """Halo's partner and an open 7,654 deal owned by the seller "Sales", which we asked Halo to help on."""
    today = Settings().today()
    with transaction(session_factory(site.engine)) as session:
        partner = partners.create_partner(
            session,
            SYSTEM,
            name="Halo Influence",
            partner_type="systems_integrator",
            stage="active",
            stage_since=today - timedelta(days=90),
            domains=["halo.example"],
        )
        accounts.create_partner_user(
            session, SYSTEM, partner_id=partner.id, email="hal@halo.example", name="Hal", password=PASSWORD
        )
        account = Account(
            crm_id="001BROWSERHALO", name="Halo Target", domain="halo-target.example", owner="Sales"
        )
        session.add(account)
        session.add(
            Opportunity(
                crm_id="006BROWSERHALO",
                account_crm_id="001BROWSERHALO",
                name="Halo Target platform",
                stage="Discovery",
                amount=Decimal("7654"),
                created_on=today - timedelta(days=10),
                owner="Sales",
            )
        )
        session.add(
            Referral(
                direction="outbound",
                kind="intro",
                partner_id=partner.id,
                company="Halo Target Inc",
                status="accepted",
                submitted_via="internal",
                submitted_at=datetime.now(UTC) - timedelta(days=9),
                account_crm_id="001BROWSERHALO",
                opportunity_crm_id="006BROWSERHALO",
            )
        )
        session.flush()
        return partner.id, account.id


def test_partner_logs_the_owner_confirms_the_figure_moves_and_the_partner_sees_it(
    page: Page, site: Site
) -> None:
    partner_id, account_id = _halo(site)
    sign_in(page, "sales@example.com")
    assert "7,654.00" not in influenced_pipeline(page, partner_id)  # a direct deal so far
    sign_out(page)

    sign_in(page, "hal@halo.example")
    page.get_by_role("link", name="Influence").click()
    expect(page.locator(".empty")).to_contain_text("Nothing logged yet")
    page.get_by_role("link", name="Log an activity").click()
    page.get_by_label("Deal").select_option(label="Halo Target Inc")
    page.get_by_label("Activity").select_option(label="Demo")
    page.get_by_label("Note").fill("Demoed our connector to their data team")
    page.get_by_role("button", name="Log it").click()  # the date left at today, as it came
    expect(page.locator(".flash.success")).to_contain_text("Logged")
    expect(page.locator("table.influence")).to_contain_text("proposed")
    sign_out(page)

    sign_in(page, "sales@example.com")
    page.goto(f"/accounts/{account_id}")
    row = page.locator("table.influence tbody tr", has_text="Demoed our connector")
    row.get_by_role("button", name="Confirm").click()
    expect(page.locator(".flash.success")).to_contain_text("confirmed")
    assert "7,654.00" in influenced_pipeline(page, partner_id)
    sign_out(page)

    sign_in(page, "hal@halo.example")
    page.goto("/portal/influence")
    expect(page.locator("table.influence tbody tr", has_text="Demoed our connector")).to_contain_text(
        "confirmed"
    )
